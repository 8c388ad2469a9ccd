import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// How every store lists its events and completes their processing: SQLite and its twin alike.
@Suite("Every store: event queries and processing")
struct InboxContractTests {
    typealias F = ContractFixtures

    /// Listing by provider, paging in arrival order for export, one event by id, every order.
    @Test(arguments: StoreKind.allCases)
    func eventsAreListedPagedAndFoundByID(kind: StoreKind) async throws {
        let store = try await kind.open()
        let first = try await F.recordedEventID(store, reference: "ORD-1")
        let second = try await F.recordedEventID(store, reference: "ORD-2")
        #expect(try await store.events(EventQuery(provider: "cod-fulfillment")).map(\.id) == [second, first])
        #expect(try await store.events(EventQuery(provider: "armada")).isEmpty)
        #expect(try await store.events(EventQuery(limit: 1)).map(\.id) == [second])
        #expect(try await store.eventsAfter(id: first, provider: nil, since: nil, limit: 10).map(\.id) == [second])
        #expect(try await store.eventsAfter(id: 0, provider: "armada", since: nil, limit: 10).isEmpty)
        // `since` is the time received (the fixtures' requests all at one moment).
        let received = try #require(try await store.event(id: first)?.receivedAt)
        let since = try await store.eventsAfter(id: 0, provider: nil, since: received, limit: 10)
        #expect(since.map(\.id) == [first, second])
        #expect(try await store.eventsAfter(id: 0, provider: nil, since: received + 1, limit: 10).isEmpty)
        #expect(try await store.event(id: second)?.orderReference == "ORD-2")
        #expect(try await store.event(id: 99) == nil)
        #expect(try await store.orderStates().isEmpty)  // until processed
        try await F.decideWaiting(store)
        #expect(try await store.orderStates().map(\.reference) == ["ORD-1", "ORD-2"])
        let both: Set = [
            OrderKey(provider: "cod-fulfillment", reference: "ORD-2"), OrderKey(provider: "x", reference: "y"),
        ]
        #expect(try await store.orderStates(of: both).keys.map(\.reference) == ["ORD-2"])
        try await store.close()
    }

    /// Processing inserts an event's messages and marks it processed at once; a key already in
    /// the outbox is skipped, so processing again after a crash sends nothing twice.
    @Test(arguments: StoreKind.allCases)
    func completeProcessingInsertsEachIdempotencyKeyOnce(kind: StoreKind) async throws {
        let store = try await kind.open()
        let first = try await F.recordedEventID(store, reference: "ORD-1")
        let second = try await F.recordedEventID(store, reference: "ORD-2")
        #expect(try await store.claimEvents(now: F.now, limit: 10, lease: 0).map(\.id) == [first, second])
        #expect(try await store.queueDepths().unprocessedEvents == 2)
        let messages = [F.message("k1", eventID: first), F.message("k2", eventID: first)]
        #expect(try await store.completeProcessing(eventID: first, messages: messages, at: F.now) == 2)
        #expect(try await store.claimEvents(now: F.now, limit: 10, lease: 0).map(\.id) == [second])
        let inserted = try await store.completeProcessing(
            [(first, messages), (second, [F.message("k2", eventID: second), F.message("k3", eventID: second)])],
            at: F.now)
        #expect(inserted == [[false, false], [false, true]])
        #expect(try await store.messages(MessageQuery()).map(\.idempotencyKey) == ["k3", "k2", "k1"])
        #expect(try await store.messages(MessageQuery(orderReference: "ORD-1", limit: 1)).count == 1)
        let depths = try await store.queueDepths()
        #expect(depths.messages[.pending] == 3)
        #expect(depths.unprocessedEvents == 0)
        try await store.close()
    }

    /// One order's events are processed one at a time, in the order they were stored: a claim
    /// takes the oldest waiting event of each order, the next one only once it is processed.
    /// (A lease of 0 lets every kind be claimed again at once; leases are PostgreSQL's alone.)
    @Test(arguments: StoreKind.allCases)
    func aClaimTakesTheOldestWaitingEventOfEachOrder(kind: StoreKind) async throws {
        let store = try await kind.open()
        let shipped = try await F.recordedEventID(store, reference: "ORD-1", from: "confirmed", to: "shipped")
        let otherOrder = try await F.recordedEventID(store, reference: "ORD-2")
        let delivered = try await F.recordedEventID(store, reference: "ORD-1", from: "shipped", to: "delivered")
        #expect(try await store.claimEvents(now: F.now, limit: 10, lease: 0).map(\.id) == [shipped, otherOrder])
        #expect(try await store.claimEvents(now: F.now, limit: 1, lease: 0).map(\.id) == [shipped])
        try await store.completeProcessing(eventID: shipped, messages: [], at: F.now)
        #expect(try await store.claimEvents(now: F.now, limit: 10, lease: 0).map(\.id) == [otherOrder, delivered])
        _ = try await store.completeProcessing([(otherOrder, []), (delivered, [])], at: F.now)
        #expect(try await store.claimEvents(now: F.now, limit: 10, lease: 0).isEmpty)
        try await store.close()
    }

    /// A webhook may carry U+0000 (`"\u0000"` in its JSON), which PostgreSQL's text cannot hold:
    /// the event and its messages are still stored (the character replaced there), never refused
    /// at every retry.
    @Test(arguments: StoreKind.allCases)
    func aNULCharacterInAWebhookIsStored(kind: StoreKind) async throws {
        let store = try await kind.open()
        let body = Fixtures.codPayload(reference: "ORD-\\u0000-1", from: "prepared", to: "out_for_delivery")
        let event = try F.incoming("cod-fulfillment", body: body)
        #expect(event.orderReference == "ORD-\u{0}-1")
        guard case .accepted(let summary) = try await store.record(event) else {
            Issue.record("not accepted")
            return
        }
        var message = F.message("k\u{0}", eventID: summary.id, reference: "ORD-\u{0}-1")
        message.text = "Bonjour\u{0}"
        let key = OrderKey(provider: "cod-fulfillment", reference: "ORD-\u{0}-1")
        let decision = EventDecision(
            status: "out_for_delivery\u{0}", fieldProblems: "order.amount '1\u{0}' is not a readable number",
            order: OrderState(provider: key.provider, reference: key.reference, status: "out_for_delivery"))
        let completed = try await store.completeProcessing(
            [EventCompletion(eventID: summary.id, messages: [message], decision: decision)], at: F.now)
        #expect(completed == [[true]])
        let stored = try #require(try await store.event(id: summary.id))
        #expect(stored.orderReference?.hasPrefix("ORD-") == true)
        #expect(stored.fieldProblems?.hasPrefix("order.amount '1") == true)
        #expect(stored.body == body)
        #expect(try await store.messages(MessageQuery()).count == 1)
        // The order is found under the reference the processor reads from the body.
        #expect(try await store.orderStates(of: [key])[key]?.status == "out_for_delivery")
        try await store.close()
    }
}
