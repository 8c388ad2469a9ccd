import Foundation
import HeraldCore
import HeraldTestSupport
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import HeraldStore

/// `StoreConnection`: the store `herald serve` starts with while its database is away.
@Suite("Store connection")
struct StoreConnectionTests {
    final class Attempts: Sendable {
        let count = Atomic<Int>(0)
    }

    @Test func itAnswersNotConnectedUntilAnAttemptSucceedsAndLogsTheOutageOnce() async throws {
        let recorder = LogRecorder()
        let attempts = Attempts()
        let connection = StoreConnection(
            name: "postgres://herald:•••@db/herald", logger: recorder.logger(), firstDelay: .milliseconds(10)
        ) {
            // Refused twice (10 ms, then 20 ms later), then connected.
            if attempts.count.add(1, ordering: .relaxed).newValue < 3 { throw StoreError("Connection refused") }
            return InMemoryStore()
        }
        #expect(throws: StoreError.notConnected) { try connection.connected() }
        await #expect(throws: StoreError.notConnected) { try await connection.ping() }
        await #expect(throws: StoreError.notConnected) { _ = try await connection.events(EventQuery(limit: 1)) }

        try await withThrowingTaskGroup { group in
            group.addTask { try await connection.run() }
            let deadline = ContinuousClock.now + .seconds(30)
            while !connection.isConnected, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(connection.isConnected)
            try await connection.ping()
            #expect(try await connection.events(EventQuery(limit: 1)).isEmpty)
            try await connection.close()
            group.cancelAll()
        }
        await #expect(throws: StoreError.closed) { try await connection.ping() }
        #expect(attempts.count.load(ordering: .relaxed) == 3)
        let lines = recorder.text.split(separator: "\n")
        #expect(lines.filter { $0.contains("database unreachable, retrying") }.count == 1)
        #expect(lines.contains { $0.contains("database unreachable, retrying") && $0.contains("Connection refused") })
        #expect(lines.filter { $0.contains("database connected") }.count == 1)
    }

    @Test func closingWhileConnectingEndsTheAttempts() async throws {
        let connection = StoreConnection(name: "db", logger: Logger(label: "test")) {
            throw StoreError("Connection refused")
        }
        try await connection.close()
        try await connection.run()  // returns at once: closed
        await #expect(throws: StoreError.closed) { try await connection.ping() }
    }

    /// What `herald serve` asks of the store before the database answers — to hear of other
    /// instances, and their shared pacing — reaches the store once it is connected.
    @Test func observersAndPacingReachTheStoreOnceConnected() async throws {
        let schema = PostgresTestDatabase.freshSchema()
        let (changes, heard) = AsyncStream.makeStream(of: StoreChange.self)
        let connection = StoreConnection(name: "db", logger: Logger(label: "test"), firstDelay: .milliseconds(10)) {
            try await PostgresTestDatabase.open(schema: schema)
        }
        connection.observeChanges { heard.yield($0) }
        let pacer = try #require(connection.sharedPacer(limits: ["sms": PacingLimits(rate: 2)]))
        let now = Date(timeIntervalSince1970: 1_778_414_400)
        await #expect(throws: StoreError.notConnected) {
            _ = try await pacer.reserve(channel: "sms", recipient: "+212661234567", now: now, bookingWithin: 1)
        }
        let other = try await PostgresTestDatabase.open(schema: schema)
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: connection)], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = changes.makeAsyncIterator()
            // The listener's wake-up on connecting, then another instance's event.
            #expect(await iterator.next() != nil)
            #expect(await iterator.next() != nil)
            let body = Fixtures.codPayload(reference: "ORD-1", from: "out_for_delivery", to: "delivered")
            _ = try await other.record(ContractFixtures.incoming("cod-fulfillment", body: body))
            #expect(await iterator.next() == .eventsRecorded)
            // Paced in the database, shared with the other instance's pacer.
            #expect(
                try await pacer.reserve(channel: "sms", recipient: "+212661234567", now: now, bookingWithin: 1) == now)
            let otherPacer = try #require(other.sharedPacer(limits: ["sms": PacingLimits(rate: 2)]))
            let next = try await otherPacer.reserve(
                channel: "sms", recipient: "+9613123456", now: now, bookingWithin: 1)
            #expect(next == now + 0.5)
            try await connection.close()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        try await other.close()
    }
}
