import Foundation
import HeraldCore
import HeraldTestSupport
import Logging
import ServiceLifecycle
import Testing

@testable import HeraldStore

@Suite("The store: events and order state (every kind where parameterized)")
struct SQLiteStoreTests {
    let ruleSet: RuleSet

    init() throws {
        ruleSet = try Fixtures.shippedRuleSet()
    }

    func incoming(_ provider: String, body: [UInt8], headers: [HeaderField]? = nil, receivedAt: Date = Date())
        -> IncomingEvent
    {
        let profile = ruleSet.provider(named: provider)!
        let request = Fixtures.request(provider: provider, body: body, headers: headers, receivedAt: receivedAt)
        return IncomingEvent(request: request, profile: profile)
    }

    @Test(arguments: StoreKind.allCases)
    func sixRedeliveriesStoreOneEvent(kind: StoreKind) async throws {
        let store = try await kind.open()
        let body = Fixtures.sample("cod-fulfillment", "delivered.json")
        var outcomes: [RecordOutcome] = []
        for _ in 0..<6 { outcomes.append(try await store.record(incoming("cod-fulfillment", body: body))) }
        guard case .accepted(let first) = outcomes[0] else {
            Issue.record("first delivery not accepted: \(outcomes[0])")
            return
        }
        #expect(outcomes.dropFirst().allSatisfy { $0 == .duplicate(id: first.id) })
        let events = try await store.events(EventQuery())
        #expect(events.count == 1)
        #expect(events[0].deliveries == 6)
        #expect(events[0].body == body)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func armadaTransitionComesFromTheStoredOrderState(kind: StoreKind) async throws {
        let store = try await kind.open()
        let dispatched = Fixtures.sample("armada", "dispatched.json")
        let delivered = Array(
            String(decoding: dispatched, as: UTF8.self)
                .replacingOccurrences(of: "\"status\": \"dispatched\"", with: "\"status\": \"delivered\"").utf8)
        #expect(delivered != dispatched)
        _ = try await store.record(incoming("armada", body: dispatched))
        _ = try await store.record(incoming("armada", body: delivered))
        // Intake stores the keys only: the order moves when the events are processed.
        #expect(try await store.orderState(provider: "armada", reference: "EAA6CAC9D5") == nil)
        #expect(try await store.events(EventQuery()).allSatisfy { $0.undecided && $0.previousStatus == nil })
        let decided = try await ContractFixtures.decideWaiting(store)
        #expect(decided.map(\.ruleEvent?.order.previousStatus) == [nil, "dispatched"])
        #expect(try await store.orderState(provider: "armada", reference: "EAA6CAC9D5")?.status == "delivered")
        let latest = try await store.events(EventQuery(limit: 1))
        #expect(latest.first?.previousStatus == "dispatched")
        #expect(latest.first?.status == "delivered")
        #expect(latest.first?.stale == false)
        #expect(latest.first?.undecided == false)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func lateArmadaEventIsStaleByTheTransitionsTable(kind: StoreKind) async throws {
        let store = try await kind.open()
        let dispatched = Fixtures.sample("armada", "dispatched.json")
        let delivered = Array(
            String(decoding: dispatched, as: UTF8.self)
                .replacingOccurrences(of: "\"status\": \"dispatched\"", with: "\"status\": \"delivered\"").utf8)
        _ = try await store.record(incoming("armada", body: delivered))
        _ = try await store.record(incoming("armada", body: dispatched))
        let decided = try await ContractFixtures.decideWaiting(store)
        #expect(decided.map { $0.decision?.stale } == [false, true])
        #expect(decided.last?.ruleEvent == nil)
        #expect(try await store.events(EventQuery(limit: 1)).first?.stale == true)
        #expect(try await store.orderState(provider: "armada", reference: "EAA6CAC9D5")?.status == "delivered")
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func olderCodEventIsStaleByItsTimestamp(kind: StoreKind) async throws {
        let store = try await kind.open()
        let newer = Fixtures.codPayload(
            reference: "ORD-7", from: "out_for_delivery", to: "delivered", timestamp: "2026-05-09T15:00:00+02:00")
        let older = Fixtures.codPayload(
            reference: "ORD-7", from: "prepared", to: "out_for_delivery", timestamp: "2026-05-09T09:00:00+02:00")
        _ = try await store.record(incoming("cod-fulfillment", body: newer))
        let outcome = try await store.record(incoming("cod-fulfillment", body: older))
        #expect(outcome == .accepted(StoredEventSummary(id: 2)))
        try await ContractFixtures.decideWaiting(store)
        #expect(try await store.event(id: 2)?.previousStatus == "prepared")
        let state = try await store.orderState(provider: "cod-fulfillment", reference: "ORD-7")
        #expect(state?.status == "delivered")
        #expect(state?.eventID == 1)
        let events = try await store.events(EventQuery())
        #expect(events.map(\.stale) == [true, false])
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func unusableBodyIsStoredAndListedAsFailed(kind: StoreKind) async throws {
        let store = try await kind.open()
        let truncated = Array(Fixtures.sample("cod-fulfillment", "delivered.json").prefix(80))
        let invalidUTF8: [UInt8] =
            Array(#"{"order":{"reference":"R\#u{1}"#.utf8.prefix(22)) + [0xC3, 0x28] + Array(#""}}"#.utf8)
        _ = try await store.record(incoming("cod-fulfillment", body: truncated))
        _ = try await store.record(incoming("cod-fulfillment", body: invalidUTF8))
        _ = try await store.record(
            incoming("cod-fulfillment", body: Fixtures.sample("cod-fulfillment", "delivered.json")))
        let failed = try await store.events(EventQuery(failedOnly: true))
        #expect(failed.count == 2)
        #expect(failed.map(\.body) == [invalidUTF8, truncated])
        #expect(failed.allSatisfy { $0.parseError?.hasPrefix("invalid JSON") == true })
        #expect(try await store.events(EventQuery()).count == 3)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func anUnreadableAmountIsListedAsFailedButMovesTheOrder(kind: StoreKind) async throws {
        let store = try await kind.open()
        let text = String(decoding: Fixtures.sample("cod-fulfillment", "delivered.json"), as: UTF8.self)
        let body = Array(text.replacingOccurrences(of: #""amount": 1799"#, with: #""amount": "12abc""#).utf8)
        _ = try await store.record(incoming("cod-fulfillment", body: body))
        #expect(try await store.events(EventQuery(failedOnly: true)).isEmpty)  // found when processed
        try await ContractFixtures.decideWaiting(store)
        let failed = try await store.events(EventQuery(failedOnly: true))
        #expect(failed.count == 1)
        #expect(failed.first?.parseError == nil)
        #expect(
            failed.first?.fieldProblems
                == "order.amount '12abc' is not a readable number: 'abc' is not a currency code or symbol")
        #expect(try await store.orderState(provider: "cod-fulfillment", reference: "ORD-000129")?.status == "delivered")
        try await store.close()
    }

    @Test func concurrentRecordsAreAllStoredAndSurviveReopening() async throws {
        let path = Fixtures.temporaryDatabasePath()
        let store = try SQLiteStore(path: path)
        let count = 500
        // The store's services run as in `herald serve`: the group committer's writer among them.
        let services = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: store.services.map { .init(service: $0) }, logger: Logger(label: "test")))
        async let running: Void = services.run()
        while !store.committer.isRunning { try await Task.sleep(for: .milliseconds(1)) }
        let outcomes = try await withThrowingTaskGroup(of: RecordOutcome.self) { group in
            for n in 0..<count {
                let body = Fixtures.codPayload(reference: "ORD-C\(n)", from: "prepared", to: "out_for_delivery")
                let event = incoming("cod-fulfillment", body: body)
                group.addTask { try await store.record(event) }
            }
            return try await group.reduce(into: [RecordOutcome]()) { $0.append($1) }
        }
        let ids = Set(
            outcomes.compactMap { outcome -> Int64? in
                if case .accepted(let summary) = outcome { return summary.id }
                return nil
            })
        #expect(ids.count == count)
        // Group commit: concurrent writers shared transactions instead of one commit each.
        #expect(store.transactionCount < count)
        try await store.close()
        // Shut down gracefully after the store closed, the services end.
        await services.triggerGracefulShutdown()
        try await running

        let reopened = try SQLiteStore(path: path)
        #expect(try await reopened.events(EventQuery(limit: 10_000)).count == count)
        try await reopened.close()
    }

    @Test(arguments: StoreKind.allCases)
    func secretHeadersAreNotStored(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await store.record(incoming("armada", body: Fixtures.sample("armada", "dispatched.json")))
        let stored = try #require(try await store.events(EventQuery()).first)
        #expect(stored.headers.first(where: { $0.name == "x-armada-app-id" })?.value == "[redacted]")
        #expect(!stored.headers.contains(where: { $0.value.contains(Fixtures.armadaAppID) }))
        #expect(stored.headers.first(where: { $0.name == "x-armada-installation-id" })?.value == "inst-001")
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func closedStoreRefusesWrites(kind: StoreKind) async throws {
        let store = try await kind.open()
        try await store.close()
        await #expect(throws: StoreError.self) {
            try await store.record(
                incoming("cod-fulfillment", body: Fixtures.sample("cod-fulfillment", "delivered.json")))
        }
        await #expect(throws: StoreError.self) { try await store.ping() }
    }

    @Test func databaseIsInWALModeWithFullSync() async throws {
        let path = Fixtures.temporaryDatabasePath()
        let store = try SQLiteStore(path: path)
        let journalMode = try await store.pragma("journal_mode")
        let synchronous = try await store.pragma("synchronous")
        #expect(journalMode == "wal")
        #expect(synchronous == "2")  // FULL
        try await store.close()
    }

    /// Elebne names the customer only in order.new: order.delivered, stored later without a phone,
    /// carries the phone the processor will address, with where it came from.
    @Test(arguments: StoreKind.allCases)
    func aLaterEventInheritsTheCustomerOfItsOrder(kind: StoreKind) async throws {
        let store = try await kind.open()
        let profile = ruleSet.provider(named: "elebne")!
        for file in ["01-order-new.json", "03-order-delivered.json"] {
            let input = try Fixtures.envelope("elebne", file)
            _ = try await store.record(incoming("elebne", body: input.body, headers: input.headers))
        }
        try await ContractFixtures.decideWaiting(store)
        let delivered = try #require(try await store.events(EventQuery()).first)
        #expect(delivered.eventName == "order.delivered")
        let phone = try #require(delivered.inherited.first { $0.field == .customerPhone })
        #expect(phone.source == ValueSource(from: "stored event 1", event: "order.new"))

        // What the processor does with the stored event: normalize its body again, then apply.
        let request = Fixtures.request(provider: "elebne", body: delivered.body, headers: delivered.headers)
        var event = try #require(profile.normalize(request).event)
        #expect(event.customer.phone == nil)
        RememberedValue.apply(delivered.inherited, to: &event)
        #expect(event.customer.phone == "+22242345678")
        #expect(event.customer.name == "Aminata Diallo")

        let state = try #require(try await store.orderState(provider: "elebne", reference: "EL-3K9P2QW7ZT4M8N1"))
        #expect(state.status == "DELIVERED")
        #expect(state.eventID == 2)
        #expect(state.remembered(.customerPhone)?.source.from == "stored event 1")
        try await store.close()
    }

    /// Opening a store written before the order remembered anything adds the columns and keeps the rows.
    @Test func theOrderMemoryMigrationKeepsExistingOrders() async throws {
        let path = Fixtures.temporaryDatabasePath()
        var store = try SQLiteStore(path: path)
        _ = try await store.record(incoming("armada", body: Fixtures.sample("armada", "dispatched.json")))
        try await ContractFixtures.decideWaiting(store)
        try await store.close()
        store = try SQLiteStore(path: path)
        #expect(try await store.orderStates().count == 1)
        try await store.close()
    }

    /// An event a version before stored and decided at intake, still waiting when the new version
    /// starts: processed with what was decided then, and the order state (moved then) left alone.
    @Test func anEventDecidedAtIntakeByAnEarlierVersionIsNotDecidedAgain() async throws {
        let store = try SQLiteStore(path: Fixtures.temporaryDatabasePath())
        let dispatched = Fixtures.sample("armada", "dispatched.json")
        let delivered = Array(
            String(decoding: dispatched, as: UTF8.self)
                .replacingOccurrences(of: "\"status\": \"dispatched\"", with: "\"status\": \"delivered\"").utf8)
        _ = try await store.record(incoming("armada", body: dispatched))
        try await ContractFixtures.decideWaiting(store)
        guard case .accepted(let summary) = try await store.record(incoming("armada", body: delivered)) else {
            Issue.record("not accepted")
            return
        }
        // As the earlier version left it: decided, the order moved at intake.
        try await store.pool.write { db in
            try db.execute(
                sql: "UPDATE events SET undecided = 0, previous_status = 'dispatched' WHERE id = ?",
                arguments: [summary.id])
            try db.execute(sql: "UPDATE orders SET status = 'delivered', event_id = ?", arguments: [summary.id])
        }
        let decided = try await ContractFixtures.decideWaiting(store)
        #expect(decided.count == 1)
        #expect(decided.first?.decision == nil)
        #expect(decided.first?.ruleEvent?.order.previousStatus == "dispatched")
        #expect(try await store.event(id: summary.id)?.stale == false)
        #expect(try await store.orderState(provider: "armada", reference: "EAA6CAC9D5")?.status == "delivered")
        try await store.close()
    }
}
