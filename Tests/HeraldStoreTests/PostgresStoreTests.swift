import Foundation
import HeraldCore
import HeraldTestSupport
import Logging
import ServiceLifecycle
import Testing

@testable import HeraldStore

/// What only a shared database must show: group commit, migrations, and several writers and
/// claimers at once (two stores on one schema stand for two instances).
@Suite("PostgreSQL store", .enabled(if: !PostgresTestDatabase.skipped))
struct PostgresStoreTests {
    typealias F = ContractFixtures
    let ruleSet: RuleSet

    init() throws {
        // Loaded once: a load per event would hold a thread of the test pool for seconds.
        ruleSet = try Fixtures.shippedRuleSet()
    }

    func incoming(_ provider: String, body: [UInt8]) throws -> IncomingEvent {
        let profile = try #require(ruleSet.provider(named: provider))
        let request = Fixtures.request(provider: provider, body: body)
        return IncomingEvent(request: request, profile: profile)
    }

    @Test func concurrentWritersShareTransactions() async throws {
        let store = try await PostgresTestDatabase.open(maximumConnections: 8)
        let count = 300
        // The store's services run as in `herald serve`: the group committer's writer among them.
        let services = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: store.services.map { .init(service: $0) }, logger: Logger(label: "test")))
        async let running: Void = services.run()
        while !store.committer.isRunning { try await Task.sleep(for: .milliseconds(1)) }
        let outcomes = try await withThrowingTaskGroup(of: RecordOutcome.self) { group in
            for n in 0..<count {
                let body = Fixtures.codPayload(reference: "ORD-C\(n)", from: "prepared", to: "out_for_delivery")
                let event = try incoming("cod-fulfillment", body: body)
                group.addTask { try await store.record(event) }
            }
            return try await group.reduce(into: [RecordOutcome]()) { $0.append($1) }
        }
        let accepted = outcomes.filter { if case .accepted = $0 { true } else { false } }
        #expect(accepted.count == count)
        #expect(store.transactionCount < count)
        await services.triggerGracefulShutdown()
        try await running
        #expect(try await store.events(EventQuery(limit: count + 1)).count == count)
        try await store.close()
    }

    /// A batch of the group committer is one statement: an event twice in it is stored once and
    /// counted twice, one stored before is a duplicate, and the body comes back byte for byte.
    @Test func aBatchStoresEachEventOnceAndCountsEveryDelivery() async throws {
        let store = try await PostgresTestDatabase.open()
        let earlier = try incoming("cod-fulfillment", body: Fixtures.codPayload(reference: "B-1", from: "a", to: "b"))
        guard case .accepted(let stored) = try await store.record(earlier) else { throw StoreError("not accepted") }
        var binary = try incoming("cod-fulfillment", body: Fixtures.codPayload(reference: "B-2", from: "a", to: "b"))
        binary.body += [0, 0xFF, 0xC3]  // not JSON any more: kept as received all the same
        let batch = [binary, earlier, binary]
        let (channel, logger) = (store.channel, store.logger)
        let outcomes = try await store.withConnection { connection in
            try await PostgresStore.insert(batch, channel: channel, on: connection, logger: logger)
        }
        guard case .accepted(let new) = outcomes[0] else { throw StoreError("not accepted: \(outcomes)") }
        #expect(outcomes == [.accepted(new), .duplicate(id: stored.id), .duplicate(id: new.id)])
        #expect(new.id > stored.id)
        let events = try await store.events(EventQuery())
        #expect(events.map(\.deliveries) == [2, 2])
        #expect(events.first?.body == binary.body)
        #expect(events.first?.undecided == true)
        try await store.close()
    }

    /// Two instances migrating one empty database at once: the advisory lock lets one create the
    /// tables and the other find them.
    @Test func instancesStartingTogetherMigrateOnce() async throws {
        let schema = PostgresTestDatabase.freshSchema()
        async let first = PostgresTestDatabase.open(schema: schema)
        async let second = PostgresTestDatabase.open(schema: schema)
        let stores = try await [first, second]
        _ = try await F.recordedEventID(stores[0])
        #expect(try await stores[1].events(EventQuery()).count == 1)
        for store in stores { try await store.close() }
    }

    /// Armada states only the new status: each event's previous status is what the order held when
    /// it was processed. Two instances storing two events of one order at once, then processing at
    /// once, must not both read the status before either (the claims hand the order's events out
    /// one at a time, in commit order).
    @Test func concurrentEventsOfOneOrderSeeEachOther() async throws {
        let schema = PostgresTestDatabase.freshSchema()
        let one = try await PostgresTestDatabase.open(schema: schema)
        let two = try await PostgresTestDatabase.open(schema: schema)
        for round in 0..<8 {
            let code = "RACE\(round)"
            _ = try await one.record(armada(code: code, status: "pending"))
            // Neither is older than the other: canceled and failed cannot reach each other.
            async let canceled = one.record(armada(code: code, status: "canceled"))
            async let failed = two.record(armada(code: code, status: "failed"))
            let outcomes = try await [canceled, failed]
            let ids = outcomes.compactMap { outcome -> Int64? in
                if case .accepted(let summary) = outcome { return summary.id }
                return nil
            }
            try #require(ids.count == 2)
            async let byOne = F.decideWaiting(one, lease: 60)
            async let byTwo = F.decideWaiting(two, lease: 60)
            let decided = try await byOne + byTwo
            #expect(decided.count == 3)
            let (earlier, later) = (ids.min()!, ids.max()!)
            let earlierEvent = try #require(try await one.event(id: earlier))
            let laterEvent = try #require(try await one.event(id: later))
            #expect(earlierEvent.previousStatus == "pending")
            #expect(laterEvent.previousStatus == earlierEvent.status)
            #expect(try await two.orderState(provider: "armada", reference: code)?.status == laterEvent.status)
        }
        try await one.close()
        try await two.close()
    }

    /// Two dispatchers (two instances) claiming at once never get the same message.
    @Test func twoClaimersNeverGetTheSameMessage() async throws {
        let schema = PostgresTestDatabase.freshSchema()
        let one = try await PostgresTestDatabase.open(schema: schema)
        let two = try await PostgresTestDatabase.open(schema: schema)
        let eventID = try await F.recordedEventID(one)
        let keys = (0..<60).map { "k\($0)" }
        try await one.completeProcessing(
            eventID: eventID, messages: keys.map { F.message($0, eventID: eventID) }, at: F.now)
        func drain(_ store: PostgresStore) async throws -> [Int64] {
            var claimed: [Int64] = []
            while true {
                let batch = try await store.claimDue(now: F.now, limit: 3, lease: 60)
                if batch.isEmpty { return claimed }
                claimed += batch.map(\.message.id)
            }
        }
        async let fromOne = drain(one)
        async let fromTwo = drain(two)
        let (a, b) = try await (fromOne, fromTwo)
        #expect(Set(a).isDisjoint(with: b))
        #expect(a.count + b.count == keys.count)
        #expect(try await one.queueDepths().messages[.sending] == keys.count)
        try await one.close()
        try await two.close()
    }

    func armada(code: String, status: String) throws -> IncomingEvent {
        let sample = String(decoding: Fixtures.sample("armada", "dispatched.json"), as: UTF8.self)
        let body = sample.replacingOccurrences(of: "\"status\": \"dispatched\"", with: "\"status\": \"\(status)\"")
            .replacingOccurrences(of: "EAA6CAC9D5", with: code)
        return try incoming("armada", body: Array(body.utf8))
    }
}

@Suite("PostgreSQL URLs")
struct PostgresURLTests {
    @Test func aURLIsReadAndPrintedWithItsPasswordMasked() throws {
        let url = try PostgresURL(parsing: "postgres://herald:s3cr%40t@db.example:6432/herald?sslmode=require")
        #expect(url.host == "db.example")
        #expect(url.port == 6432)
        #expect(url.username == "herald")
        #expect(url.password == "s3cr@t")
        #expect(url.database == "herald")
        #expect(url.sslMode == .require)
        #expect(url.description == "postgres://herald:•••@db.example:6432/herald?sslmode=require")
        #expect(try PostgresURL(parsing: "postgresql://u@h/d").description == "postgres://u@h:5432/d")
    }

    @Test(arguments: [
        "postgres://herald:hunter2@db/herald?sslmode=sometimes", "postgres://herald:hunter2@/herald",
        "postgres://herald:hunter2@db", "postgres://herald:hunter2@db/herald?password=x",
    ])
    func aBadURLIsRefusedWithoutItsPassword(text: String) {
        #expect {
            try PostgresURL(parsing: text)
        } throws: { error in
            "\(error)".contains("•••") && !"\(error)".contains("hunter2")
        }
    }
}
