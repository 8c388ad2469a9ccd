import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// What every store does with receipts: kept once per provider id, applied to the outbox without
/// ever moving a message backwards, the time of each step kept.
@Suite("Every store: receipts")
struct ReceiptContractTests {
    typealias F = ContractFixtures

    /// A store holding one message per key, claimed and recorded `sent` as `SM-<key>`, except
    /// those in `unknown` (their answer was lost: no provider id).
    func store(_ kind: StoreKind, keys: [String], unknown: Set<String> = []) async throws -> any Store {
        let store = try await kind.open()
        let eventID = try await F.recordedEventID(store)
        try await store.completeProcessing(
            eventID: eventID, messages: keys.map { F.message($0, eventID: eventID) }, at: F.now)
        let claimed = try await store.claimDue(now: F.now, limit: 10, lease: 60)
        try await store.record(
            claimed.map { claim in
                let key = claim.message.idempotencyKey
                let update =
                    unknown.contains(key)
                    ? DeliveryUpdate(state: .unknown, lastError: "unknown outcome: timeout")
                    : DeliveryUpdate(state: .sent, providerMessageID: "SM-" + key)
                return (claim.message.id, update, false)
            }, at: F.now)
        return store
    }

    func status(
        _ sid: String, _ status: String, _ state: DeliveryState?, key: String? = nil, error: String? = nil,
        at time: Date? = nil, channel: String = "sms"
    ) -> IncomingReceipt {
        IncomingReceipt(
            channel: channel,
            receipt: Receipt(
                dedupeKey: sid + " " + status,
                content: .status(
                    StatusReport(
                        providerMessageID: sid, providerStatus: status, state: state, errorCode: error,
                        idempotencyKey: key)),
                occurredAt: time))
    }

    func message(_ store: any Store, _ key: String) async throws -> OutboxMessage {
        try #require(try await store.messages(MessageQuery(limit: 100)).first { $0.idempotencyKey == key })
    }

    @Test(arguments: StoreKind.allCases)
    func aDeliveryReceiptMarksItsMessageOnceAndKeepsTheTime(kind: StoreKind) async throws {
        let store = try await store(kind, keys: ["k1", "k2"])
        let sent = try await message(store, "k1")
        let outcomes = try await store.recordReceipts([status("SM-k1", "delivered", .delivered)], at: F.now + 5)
        // Sent at F.now, delivered 5 s later: the time `/metrics` puts in its histogram.
        #expect(outcomes == [.recorded(messageID: sent.id, state: .delivered, effects: .init(sentToDelivered: 5))])
        // The provider retries the same callback: a duplicate, and nothing moves.
        #expect(
            try await store.recordReceipts([status("SM-k1", "delivered", .delivered)], at: F.now + 9) == [.duplicate])
        let delivered = try await message(store, "k1")
        #expect(delivered.state == .delivered)
        #expect(delivered.progress.deliveredAt == F.now + 5)
        #expect(delivered.progress.sentAt == F.now)
        #expect(try await message(store, "k2").state == .sent)
        #expect(try await store.receipts(channel: "sms", limit: 10).map(\.messageID) == [sent.id])
        #expect(try await store.queueDepths().messages[.delivered] == 1)
        try await store.close()
    }

    /// Receipts arrive in any order: a late `sent` or `undelivered` never undoes `delivered` or `read`.
    @Test(arguments: StoreKind.allCases)
    func statesNeverMoveBackwards(kind: StoreKind) async throws {
        let store = try await store(kind, keys: ["k1"])
        let metaTime = Date(timeIntervalSince1970: 1_778_414_500)
        _ = try await store.recordReceipts([status("SM-k1", "read", .read, at: metaTime)], at: F.now + 20)
        _ = try await store.recordReceipts(
            [status("SM-k1", "sent", .sent), status("SM-k1", "delivered", .delivered, at: metaTime - 10)],
            at: F.now + 30)
        _ = try await store.recordReceipts([status("SM-k1", "failed", .undelivered, error: "30003")], at: F.now + 40)
        let read = try await message(store, "k1")
        #expect(read.state == .read)
        // Each step keeps its own time, the provider's when it gave one.
        #expect(read.progress.readAt == metaTime)
        #expect(read.progress.deliveredAt == metaTime - 10)
        #expect(read.progress.sentAt == F.now)
        // The stale failure is kept as a receipt but is no step of this message.
        #expect(read.progress.undeliveredAt == nil)
        #expect(read.progress.errorCode == nil)
        #expect(try await store.receipts(channel: nil, limit: 10).count == 4)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func anUndeliveredReceiptKeepsTheCarriersErrorCode(kind: StoreKind) async throws {
        let store = try await store(kind, keys: ["k1"])
        let outcome = try await store.recordReceipts(
            [status("SM-k1", "undelivered", .undelivered, error: "30003")], at: F.now + 5)
        #expect(outcome == [.recorded(messageID: try await message(store, "k1").id, state: .undelivered)])
        let undelivered = try await message(store, "k1")
        #expect(undelivered.state == .undelivered)
        #expect(undelivered.progress.errorCode == "30003")
        #expect(undelivered.progress.undeliveredAt == F.now + 5)
        // A later delivery report is proof it got there after all.
        _ = try await store.recordReceipts([status("SM-k1", "delivered", .delivered)], at: F.now + 50)
        #expect(try await message(store, "k1").state == .delivered)
        try await store.close()
    }

    /// The send's answer was lost; the receipt carries the message's key (Twilio's `?key=`, Meta's
    /// `biz_opaque_callback_data`): the message is resolved, gets its provider id, and is never
    /// claimed or sent again, and the dispatcher's late outcome does not move it back.
    @Test(arguments: StoreKind.allCases)
    func aReceiptCarryingTheKeyResolvesAnUnknownOutcome(kind: StoreKind) async throws {
        let store = try await store(kind, keys: ["k1", "k2"], unknown: ["k1"])
        let lost = try await message(store, "k1")
        #expect(lost.state == .unknown)
        #expect(lost.providerMessageID == nil)
        let outcome = try await store.recordReceipts(
            [status("SM-new", "delivered", .delivered, key: "k1")], at: F.now + 5)
        #expect(outcome == [.recorded(messageID: lost.id, state: .delivered)])
        let resolved = try await message(store, "k1")
        #expect(resolved.state == .delivered)
        #expect(resolved.providerMessageID == "SM-new")
        #expect(try await store.claimDue(now: F.now + 3600, limit: 10, lease: 60).isEmpty)
        #expect(try await store.claimLookups(now: F.now + 3600, limit: 10, lease: 60).isEmpty)
        try await store.record(
            DeliveryUpdate(state: .sent, providerMessageID: "SM-new"), messageID: lost.id, at: F.now + 6)
        #expect(try await message(store, "k1").state == .delivered)
        // A later status about it is found by its provider id now.
        _ = try await store.recordReceipts([status("SM-new", "read", .read)], at: F.now + 7)
        #expect(try await message(store, "k1").state == .read)
        try await store.close()
    }

    /// Kept and answered, never applied: a receipt about a message Herald does not know, and a
    /// status Herald does not know.
    @Test(arguments: StoreKind.allCases)
    func unknownMessagesAndStatusesAreKeptNotApplied(kind: StoreKind) async throws {
        let store = try await store(kind, keys: ["k1"])
        let outcomes = try await store.recordReceipts(
            [status("SM-other", "delivered", .delivered), status("SM-k1", "partially_delivered", nil)], at: F.now + 5)
        let id = try await message(store, "k1").id
        #expect(outcomes == [.recorded(messageID: nil, state: nil), .recorded(messageID: id, state: .sent)])
        #expect(try await message(store, "k1").state == .sent)
        // One call's receipts are listed in no particular order among themselves.
        let kept = try await store.receipts(channel: "sms", limit: 10).sorted { $0.dedupeKey < $1.dedupeKey }
        #expect(kept.map(\.providerStatus) == ["partially_delivered", "delivered"])
        #expect(kept.map(\.messageID) == [id, nil])
        try await store.close()
    }

    /// Held and suppressed messages never reached a provider: a receipt naming their key is kept,
    /// and they stay as they are.
    @Test(arguments: StoreKind.allCases)
    func heldMessagesAreNotMovedByAReceipt(kind: StoreKind) async throws {
        let store = try await kind.open()
        let eventID = try await F.recordedEventID(store)
        try await store.completeProcessing(
            eventID: eventID, messages: [F.message("h1", eventID: eventID, state: .held, due: nil)], at: F.now)
        let outcome = try await store.recordReceipts([status("SM-x", "delivered", .delivered, key: "h1")], at: F.now)
        #expect(outcome == [.recorded(messageID: try await message(store, "h1").id, state: .held)])
        #expect(try await message(store, "h1").state == .held)
        try await store.close()
    }

    /// Replies and bodies that did not parse are kept, deduplicated per channel.
    @Test(arguments: StoreKind.allCases)
    func repliesAndUnparsedBodiesAreKeptOncePerChannel(kind: StoreKind) async throws {
        let store = try await kind.open()
        let reply = Receipt(
            dedupeKey: "SM9", content: .reply(Reply(providerMessageID: "SM9", from: "+212612345678", body: "توقف")))
        let broken = Array("MessageSid=%E".utf8)
        let outcomes = try await store.recordReceipts(
            [
                IncomingReceipt(channel: "sms", receipt: reply),
                IncomingReceipt(
                    channel: "sms", unparsedBody: broken, parseError: "a '%' is not followed by two hex digits"),
                IncomingReceipt(channel: "sms", receipt: reply),
                IncomingReceipt(channel: "sms-2", receipt: reply),
                IncomingReceipt(
                    channel: "sms", unparsedBody: broken, parseError: "a '%' is not followed by two hex digits"),
            ], at: F.now)
        #expect(
            outcomes == [
                .recorded(messageID: nil, state: nil), .recorded(messageID: nil, state: nil), .duplicate,
                .recorded(messageID: nil, state: nil), .duplicate,
            ])
        let kept = try await store.receipts(channel: "sms", limit: 10)
        #expect(kept.map(\.kind) == ["unparsed", "reply"])
        #expect(kept.last?.sender == "+212612345678")
        #expect(kept.last?.body == "توقف")
        #expect(kept.first?.parseError == "a '%' is not followed by two hex digits")
        #expect(try await store.receipts(channel: nil, limit: 10).count == 3)
        try await store.close()
    }
}
