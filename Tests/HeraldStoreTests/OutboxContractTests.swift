import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// What every store does with the outbox: claims under a lease, outcomes by message id, retries.
@Suite("Every store: the outbox")
struct OutboxContractTests {
    typealias F = ContractFixtures

    /// A store holding one message per key, due now.
    func store(_ kind: StoreKind, keys: [String]) async throws -> any Store {
        let store = try await kind.open()
        let eventID = try await F.recordedEventID(store)
        try await store.completeProcessing(
            eventID: eventID, messages: keys.map { F.message($0, eventID: eventID) }, at: F.now)
        return store
    }

    /// A claimed message is leased: no other claim sees it until the lease ends, then the next
    /// claim takes it back as recovered (its outcome unknown), keeping the time of its attempt.
    @Test(arguments: StoreKind.allCases)
    func aClaimLeasesItsMessagesUntilTheLeaseEnds(kind: StoreKind) async throws {
        let store = try await store(kind, keys: ["k1", "k2"])
        #expect(try await store.claimDue(now: F.now - 1, limit: 10, lease: 60).isEmpty)
        let first = try await store.claimDue(now: F.now, limit: 1, lease: 60)
        #expect(first.map(\.message.idempotencyKey) == ["k1"])
        #expect(first.map(\.recovered) == [false])
        #expect(first.first?.message.state == .sending)
        #expect(first.first?.message.attempts == 1)
        #expect(first.first?.message.attemptedAt == F.now)
        let second = try await store.claimDue(now: F.now + 30, limit: 10, lease: 60)
        #expect(second.map(\.message.idempotencyKey) == ["k2"])
        #expect(try await store.claimDue(now: F.now + 59, limit: 10, lease: 60).isEmpty)
        let recovered = try await store.claimDue(now: F.now + 61, limit: 10, lease: 60)
        #expect(recovered.map(\.message.idempotencyKey) == ["k1"])
        #expect(recovered.map(\.recovered) == [true])
        #expect(recovered.first?.message.attempts == 2)
        #expect(recovered.first?.message.attemptedAt == F.now)
        #expect(try await store.queueDepths().messages[.sending] == 2)
        try await store.close()
    }

    /// An outcome is recorded by message id and ends the lease; a refunded attempt is given back.
    @Test(arguments: StoreKind.allCases)
    func outcomesAreRecordedByMessageID(kind: StoreKind) async throws {
        let store = try await store(kind, keys: ["k1", "k2"])
        let claimed = try await store.claimDue(now: F.now, limit: 10, lease: 60)
        let ids = claimed.map(\.message.id)
        try await store.record(
            [
                (ids[0], DeliveryUpdate(state: .sent, providerMessageID: "SM1"), false),
                (ids[1], DeliveryUpdate(state: .pending, nextAttemptAt: F.now + 600, lastError: "quiet hours"), true),
            ], at: F.now)
        let sent = try #require(try await store.messages(MessageQuery(state: .sent)).first)
        #expect(sent.id == ids[0])
        #expect(sent.providerMessageID == "SM1")
        #expect(sent.attempts == 1)
        let waiting = try #require(try await store.messages(MessageQuery(state: .pending)).first)
        #expect(waiting.attempts == 0)
        #expect(waiting.lastError == "quiet hours")
        // Recorded: no lease left to expire, so nothing comes back before its time.
        #expect(try await store.claimDue(now: F.now + 599, limit: 10, lease: 60).isEmpty)
        #expect(try await store.claimDue(now: F.now + 600, limit: 10, lease: 60).map(\.message.id) == [ids[1]])
        try await store.close()
    }

    /// An unknown outcome is looked up when due; the claim moves the next lookup a lease away.
    @Test(arguments: StoreKind.allCases)
    func aLookupClaimMovesTheNextLookupALeaseAway(kind: StoreKind) async throws {
        let store = try await store(kind, keys: ["k1"])
        let id = try await store.claimDue(now: F.now, limit: 1, lease: 60)[0].message.id
        try await store.record(
            DeliveryUpdate(state: .unknown, nextAttemptAt: F.now + 10, lastError: "unknown outcome: timeout"),
            messageID: id, at: F.now)
        #expect(try await store.claimDue(now: F.now + 3600, limit: 10, lease: 60).isEmpty)
        #expect(try await store.claimLookups(now: F.now + 9, limit: 10, lease: 60).isEmpty)
        #expect(try await store.claimLookups(now: F.now + 10, limit: 10, lease: 60).map(\.id) == [id])
        #expect(try await store.claimLookups(now: F.now + 69, limit: 10, lease: 60).isEmpty)
        #expect(try await store.claimLookups(now: F.now + 70, limit: 10, lease: 60).map(\.state) == [.unknown])
        try await store.close()
    }

    /// `herald retry`: failed and held messages go back to the queue with their attempts reset;
    /// an unknown one only with force; a failed one can take a new text first.
    @Test(arguments: StoreKind.allCases)
    func retryReleasesFailedAndHeldMessages(kind: StoreKind) async throws {
        let store = try await store(kind, keys: ["k1", "k2", "k3"])
        let ids = try await store.claimDue(now: F.now, limit: 10, lease: 60).map(\.message.id)
        try await store.record(
            [
                (ids[0], DeliveryUpdate(state: .failed, lastError: "bad number"), false),
                (ids[1], DeliveryUpdate(state: .held, lastError: "TWILIO_AUTH_TOKEN unset"), false),
                (ids[2], DeliveryUpdate(state: .unknown, lastError: "unknown outcome: reset"), false),
            ], at: F.now)
        var replanned = F.message("k1", eventID: 1)
        replanned.text = "Bonjour Salma"
        #expect(try await store.replan(id: ids[0], with: replanned))
        #expect(try await !store.replan(id: ids[1], with: replanned))
        #expect(try await store.release(ids: ids, at: F.now + 5) == [ids[0], ids[1]])
        #expect(try await store.release(ids: ids, at: F.now + 5, force: true) == [ids[2]])
        let released = try await store.claimDue(now: F.now + 5, limit: 10, lease: 60)
        #expect(released.map(\.message.id).sorted() == ids)
        #expect(released.allSatisfy { $0.message.attempts == 1 && !$0.recovered })
        #expect(released.first { $0.message.id == ids[0] }?.message.text == "Bonjour Salma")
        try await store.close()
    }
}
