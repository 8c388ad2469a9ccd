import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

@testable import HeraldStore

/// What every store does with incoming events and order state: SQLite and its in-memory twin alike.
@Suite("Every store: events and order state")
struct InboxContractTests {
    typealias F = ContractFixtures

    @Test(arguments: StoreKind.allCases)
    func sixRedeliveriesStoreOneEventCountingDeliveries(kind: StoreKind) async throws {
        let store = try kind.open()
        let body = Fixtures.sample("cod-fulfillment", "delivered.json")
        var outcomes: [RecordOutcome] = []
        for _ in 0..<6 { outcomes.append(try await store.record(F.incoming("cod-fulfillment", body: body))) }
        guard case .accepted(let first) = outcomes[0] else {
            Issue.record("first delivery not accepted: \(outcomes[0])")
            return
        }
        #expect(outcomes.dropFirst().allSatisfy { $0 == .duplicate(id: first.id) })
        let events = try await store.events(EventQuery())
        #expect(events.map(\.deliveries) == [6])
        #expect(events.first?.body == body)
        #expect(try await store.event(id: first.id)?.dedupeKey == events.first?.dedupeKey)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func theTransitionComesFromTheStoredOrderState(kind: StoreKind) async throws {
        let store = try kind.open()
        let dispatched = Fixtures.sample("armada", "dispatched.json")
        let delivered = Array(
            String(decoding: dispatched, as: UTF8.self)
                .replacingOccurrences(of: "\"status\": \"dispatched\"", with: "\"status\": \"delivered\"").utf8)
        _ = try await store.record(F.incoming("armada", body: dispatched))
        let outcome = try await store.record(F.incoming("armada", body: delivered))
        guard case .accepted(let summary) = outcome else {
            Issue.record("not accepted: \(outcome)")
            return
        }
        #expect(summary.previousStatus == "dispatched")
        #expect(!summary.stale)
        #expect(try await store.orderState(provider: "armada", reference: "EAA6CAC9D5")?.status == "delivered")
        #expect(try await store.orderStates().map(\.status) == ["delivered"])
        #expect(try await store.events(EventQuery(limit: 1)).first?.previousStatus == "dispatched")
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func anOlderEventIsStaleAndMovesNothing(kind: StoreKind) async throws {
        let store = try kind.open()
        let newer = Fixtures.codPayload(
            reference: "ORD-7", from: "out_for_delivery", to: "delivered", timestamp: "2026-05-09T15:00:00+02:00")
        let older = Fixtures.codPayload(
            reference: "ORD-7", from: "prepared", to: "out_for_delivery", timestamp: "2026-05-09T09:00:00+02:00")
        _ = try await store.record(F.incoming("cod-fulfillment", body: newer))
        let outcome = try await store.record(F.incoming("cod-fulfillment", body: older))
        #expect(outcome == .accepted(StoredEventSummary(id: 2, previousStatus: "prepared", stale: true)))
        let state = try await store.orderState(provider: "cod-fulfillment", reference: "ORD-7")
        #expect(state?.status == "delivered")
        #expect(state?.eventID == 1)
        #expect(try await store.events(EventQuery()).map(\.stale) == [true, false])
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func anUnusableBodyIsStoredAndListedAsFailed(kind: StoreKind) async throws {
        let store = try kind.open()
        let truncated = Array(Fixtures.sample("cod-fulfillment", "delivered.json").prefix(80))
        _ = try await store.record(F.incoming("cod-fulfillment", body: truncated))
        _ = try await store.record(
            F.incoming("cod-fulfillment", body: Fixtures.sample("cod-fulfillment", "delivered.json")))
        let failed = try await store.events(EventQuery(failedOnly: true))
        #expect(failed.map(\.body) == [truncated])
        #expect(try await store.events(EventQuery(provider: "armada")).isEmpty)
        #expect(try await store.eventsAfter(id: 1, provider: nil, since: nil, limit: 10).map(\.id) == [2])
        try await store.close()
    }

    /// Processing inserts an event's messages and marks it processed at once; a key already in
    /// the outbox is skipped, so processing again after a crash sends nothing twice.
    @Test(arguments: StoreKind.allCases)
    func completeProcessingInsertsEachIdempotencyKeyOnce(kind: StoreKind) async throws {
        let store = try kind.open()
        let first = try await F.recordedEventID(store, reference: "ORD-1")
        let second = try await F.recordedEventID(store, reference: "ORD-2")
        #expect(try await store.unprocessedEvents(limit: 10).map(\.id) == [first, second])
        #expect(try await store.queueDepths().unprocessedEvents == 2)
        let messages = [F.message("k1", eventID: first), F.message("k2", eventID: first)]
        #expect(try await store.completeProcessing(eventID: first, messages: messages, at: F.now) == 2)
        #expect(try await store.unprocessedEvents(limit: 10).map(\.id) == [second])
        let counts = try await store.completeProcessing(
            [(first, messages), (second, [F.message("k2", eventID: second), F.message("k3", eventID: second)])],
            at: F.now)
        #expect(counts == [0, 1])
        #expect(try await store.messages(MessageQuery()).map(\.idempotencyKey) == ["k3", "k2", "k1"])
        #expect(try await store.messages(MessageQuery(orderReference: "ORD-1", limit: 1)).count == 1)
        let depths = try await store.queueDepths()
        #expect(depths.messages[.pending] == 3)
        #expect(depths.unprocessedEvents == 0)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func aClosedStoreRefusesEveryCall(kind: StoreKind) async throws {
        let store = try kind.open()
        try await store.ping()
        try await store.close()
        await #expect(throws: StoreError.self) { try await store.ping() }
        await #expect(throws: StoreError.self) {
            try await store.record(
                F.incoming("cod-fulfillment", body: Fixtures.sample("cod-fulfillment", "delivered.json")))
        }
        await #expect(throws: StoreError.self) { try await store.messages(MessageQuery()) }
    }
}
