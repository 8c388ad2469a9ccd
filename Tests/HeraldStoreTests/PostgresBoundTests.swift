import Foundation
import HeraldCore
import HeraldTestSupport
import Logging
import Testing

@testable import HeraldStore

/// Every call of `PostgresStore` ends within its `operationTimeout` when the database goes away,
/// whichever way it goes, and works again once it is back: what keeps `herald serve`'s loops and
/// its shutdown from waiting for ever (`BoundedConnection`).
@Suite("PostgreSQL store: calls bounded through an outage", .enabled(if: !PostgresTestDatabase.skipped), .serialized)
struct PostgresBoundTests {
    /// A store reached through `forwarder`, its calls bounded by one second.
    static func store(through forwarder: TCPForwarder) async throws -> PostgresStore {
        var options = PostgresStore.Options()
        options.schema = PostgresTestDatabase.freshSchema()
        options.maximumConnections = 4
        options.operationTimeout = .seconds(1)
        var logger = Logger(label: "herald.test.postgres")
        logger.logLevel = .critical
        var url = try PostgresTestDatabase.requiredURL()
        url.sslMode = .disable
        url.port = forwarder.port
        return try await PostgresStore.connect(url, logger: logger, options: options)
    }

    @Test(arguments: [TCPForwarder.Outage.restart, .partition])
    func everyCallEndsWithinItsBoundAndTheStoreWorksAgainAfter(_ outage: TCPForwarder.Outage) async throws {
        let forwarder = try TCPForwarder(upstreamPort: try PostgresTestDatabase.requiredURL().port)
        defer { forwarder.cut(.restart) }
        try forwarder.open()
        let store = try await Self.store(through: forwarder)
        // Connections in the pool, idle, as between two polls of a worker loop.
        _ = try await store.events(EventQuery(limit: 1))
        try await store.ping()

        forwarder.cut(outage)
        let message = ContractFixtures.message("bound-\(outage)", eventID: 1)
        // A read, a transaction, and the ping: each fails, none waits more than its bound (plus
        // the machine's load: 5 s against the 1 s bound; it waited for ever on a partition before).
        for call in ["read", "transaction", "ping"] {
            let started = ContinuousClock.now
            await #expect(throws: (any Error).self, "\(call)") {
                switch call {
                case "read": _ = try await store.events(EventQuery(limit: 10))
                case "transaction": _ = try await store.completeProcessing([(1, [message])], at: Date())
                default: try await store.ping()
                }
            }
            #expect(ContinuousClock.now - started < .seconds(5), "\(call)")
        }

        // Back: the pool replaces what it lost, and the same calls succeed within a few attempts.
        try forwarder.open()
        var worked = false
        for _ in 0..<40 where !worked {
            worked = (try? await store.events(EventQuery(limit: 10))) != nil
            if !worked { try await Task.sleep(for: .milliseconds(250)) }
        }
        #expect(worked)
        try await store.ping()

        // Closing while the database is away ends promptly too.
        forwarder.cut(outage)
        let closing = ContinuousClock.now
        try await store.close()
        #expect(ContinuousClock.now - closing < .seconds(5))
    }
}
