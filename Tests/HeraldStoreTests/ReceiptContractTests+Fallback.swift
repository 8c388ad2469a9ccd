import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// What every store does beyond a status's state: the fallback message planned when WhatsApp says
/// the customer is out of reach, and the send → delivered time.
extension ReceiptContractTests {
    /// The rule `delivered` falls back to `sms`.
    static let fallbacks = ReceiptFallbacks(channels: ["delivered": "sms"], templateChannels: ["whatsapp"])

    /// A store holding WhatsApp messages sent as `wamid-<key>` (their rule: `delivered`).
    func whatsAppStore(_ kind: StoreKind, keys: [String]) async throws -> any Store {
        let store = try await kind.open()
        let eventID = try await F.recordedEventID(store)
        let messages = keys.map { key in
            var message = F.message(key, eventID: eventID)
            message.channel = "whatsapp"
            message.text = "Bonjour Salma, votre commande ORD-1 est livrée."
            message.encoding = nil
            message.segments = nil
            message.whatsapp = WhatsAppTemplateCall(name: "herald_delivered", language: "fr", parameters: ["Salma"])
            return message
        }
        try await store.completeProcessing(eventID: eventID, messages: messages, at: F.now)
        let claimed = try await store.claimDue(now: F.now, limit: 10, lease: 60)
        try await store.record(
            claimed.map { claim in
                let id = "wamid-" + claim.message.idempotencyKey
                return (claim.message.id, DeliveryUpdate(state: .sent, providerMessageID: id), false)
            }, at: F.now)
        return store
    }

    func failed(_ key: String, code: String, status: String = "failed") -> IncomingReceipt {
        self.status("wamid-" + key, status, .undelivered, error: code, channel: "whatsapp")
    }

    @Test(arguments: StoreKind.allCases)
    func anUnreachableCustomerGetsTheFallbackMessageOnce(kind: StoreKind) async throws {
        let store = try await whatsAppStore(kind, keys: ["w1"])
        let original = try await message(store, "w1")
        let outcomes = try await store.recordReceipts(
            [failed("w1", code: "131026")], at: F.now + 30, fallbacks: Self.fallbacks)
        guard case .recorded(original.id, .undelivered, let effects)? = outcomes.first else {
            Issue.record("not applied: \(outcomes)")
            return
        }
        let fallbackID = try #require(effects.fallbackMessageID)
        let fallback = try await message(store, IdempotencyKey.fallback(of: "w1", channel: "sms"))
        #expect(fallback.id == fallbackID)
        #expect(fallback.channel == "sms")
        #expect(fallback.state == .pending)
        #expect(fallback.nextAttemptAt == F.now + 30)
        #expect(fallback.rule == original.rule)
        #expect(fallback.eventID == original.eventID)
        #expect(fallback.recipient == original.recipient)
        #expect(fallback.text == original.text)
        #expect(fallback.encoding == "GSM-7")
        #expect(fallback.segments == 1)
        #expect(fallback.whatsapp == nil)
        let undelivered = try await message(store, "w1")
        #expect(undelivered.state == .undelivered)
        #expect(undelivered.progress.errorCode == "131026")
        // Meta redelivers the webhook: a duplicate. Another failed report about the same message
        // (another id for it): applied to nothing new, and plans nothing more.
        #expect(
            try await store.recordReceipts([failed("w1", code: "131026")], at: F.now + 40, fallbacks: Self.fallbacks)
                == [.duplicate])
        let again = try await store.recordReceipts(
            [failed("w1", code: "131047", status: "undelivered")], at: F.now + 50, fallbacks: Self.fallbacks)
        #expect(again == [.recorded(messageID: original.id, state: .undelivered)])
        #expect(try await store.messages(MessageQuery()).count == 2)
        // The dispatcher sends it like any message.
        let due = try await store.claimDue(now: F.now + 31, limit: 10, lease: 60)
        #expect(due.map(\.message.id) == [fallbackID])
        try await store.close()
    }

    /// 131047 (outside the 24 h window) plans it too; other codes and rules without a fallback
    /// leave the message undelivered and plan nothing.
    @Test(arguments: StoreKind.allCases)
    func onlyUnreachableCodesWithARuleFallbackPlanOne(kind: StoreKind) async throws {
        let store = try await whatsAppStore(kind, keys: ["w1", "w2", "w3"])
        let outcomes = try await store.recordReceipts(
            [failed("w1", code: "131000"), failed("w2", code: "131047")], at: F.now + 30, fallbacks: Self.fallbacks)
        let noFallback = try await store.recordReceipts(
            [failed("w3", code: "131026")], at: F.now + 30, fallbacks: .none)
        var ids: [Int64] = []
        for key in ["w1", "w2", "w3"] { ids.append(try await message(store, key).id) }
        let planned = try await message(store, IdempotencyKey.fallback(of: "w2", channel: "sms"))
        #expect(
            outcomes == [
                .recorded(messageID: ids[0], state: .undelivered),
                .recorded(
                    messageID: ids[1], state: .undelivered, effects: ReceiptEffects(fallbackMessageID: planned.id)),
            ])
        #expect(noFallback == [.recorded(messageID: ids[2], state: .undelivered)])
        #expect(try await store.messages(MessageQuery()).count == 4)
        try await store.close()
    }

    /// The delivered step, recorded once, gives the send → delivered time when the send time is
    /// known; a message whose answer was lost has none.
    @Test(arguments: StoreKind.allCases)
    func theFirstDeliveredStepGivesTheSendToDeliveredTime(kind: StoreKind) async throws {
        let store = try await store(kind, keys: ["k1", "k2"], unknown: ["k2"])
        // Read first (out of order), then delivered: the delivered step is recorded by the second.
        let read = try await store.recordReceipts([status("SM-k1", "read", .read)], at: F.now + 20)
        let id = try await message(store, "k1").id
        #expect(read == [.recorded(messageID: id, state: .read)])
        let delivered = try await store.recordReceipts([status("SM-k1", "delivered", .delivered)], at: F.now + 30)
        #expect(delivered == [.recorded(messageID: id, state: .read, effects: ReceiptEffects(sentToDelivered: 30))])
        let lost = try await store.recordReceipts(
            [status("SM-k2", "delivered", .delivered, key: "k2")], at: F.now + 30)
        #expect(lost == [.recorded(messageID: try await message(store, "k2").id, state: .delivered)])
        try await store.close()
    }
}
