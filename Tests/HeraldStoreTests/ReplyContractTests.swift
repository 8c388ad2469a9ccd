import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// What every store does with a customer's keyword reply: STOP puts the number on the suppression
/// list, START lifts what replies and the provider's opt-out error put there, and the latest by
/// the provider's time wins whatever order they arrive in.
@Suite("Every store: STOP and START replies")
struct ReplyContractTests {
    typealias F = ContractFixtures
    let number = "+212612345678"

    func reply(
        _ id: String, _ body: String, at time: Date? = nil, channel: String = "sms", from: String? = nil,
        scope: Suppression.Scope = .allChannels
    ) -> IncomingReceipt {
        let reply = Reply(providerMessageID: id, from: from ?? number, body: body)
        let receipt = Receipt(dedupeKey: id, content: .reply(reply), occurredAt: time)
        var keywords = ReplyKeywords()
        keywords.scope = scope == .allChannels ? .all : .channel
        return IncomingReceipt(
            channel: channel, receipt: receipt,
            replyAction: ReplyAction(reply: reply, channel: channel, keywords: keywords))
    }

    @Test(arguments: StoreKind.allCases)
    func stopSuppressesTheNumberOnEveryChannelAndStartLiftsIt(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await store.recordReceipts([reply("SM1", "Stop")], at: F.now)
        let entry = try #require(try await store.suppression(for: number, channel: "whatsapp"))
        #expect(entry.source == .reply)
        #expect(entry.scope == .allChannels)
        #expect(entry.reason == "replied \"stop\" on sms")
        #expect(try await store.isSuppressed(number, channel: "sms"))
        #expect(try await !store.isSuppressed("+212699999999", channel: "sms"))

        _ = try await store.recordReceipts([reply("SM2", "START")], at: F.now + 60)
        #expect(try await !store.isSuppressed(number, channel: "sms"))
        #expect(try await store.suppressions(numbers: nil).isEmpty)

        // Arabic, by the provider's time.
        _ = try await store.recordReceipts([reply("wamid.3", "توقف", at: F.now + 120)], at: F.now + 121)
        #expect(try await store.isSuppressed(number, channel: "sms"))
        let listed = try await store.replies(sender: number, limit: 10)
        #expect(listed.map(\.body) == ["توقف", "START", "Stop"])
        #expect(listed.map(\.optAction) == ["opt-out", "opt-in", "opt-out"])
        try await store.close()
    }

    /// A STOP the provider redelivers, or one that arrives after a newer START, changes nothing.
    @Test(arguments: StoreKind.allCases)
    func aLateOrRedeliveredStopNeverOverridesANewerStart(kind: StoreKind) async throws {
        let store = try await kind.open()
        let stop = reply("wamid.1", "STOP", at: F.now)
        let start = reply("wamid.2", "START", at: F.now + 30)
        // Arrived in order: suppressed, then lifted; the STOP again is a duplicate.
        _ = try await store.recordReceipts([stop], at: F.now + 1)
        _ = try await store.recordReceipts([start], at: F.now + 31)
        #expect(try await store.recordReceipts([stop], at: F.now + 40) == [.duplicate])
        #expect(try await !store.isSuppressed(number, channel: "sms"))
        // Another number, the START first: the older STOP arriving late is kept but not applied.
        let other = "+212611111111"
        _ = try await store.recordReceipts([reply("wamid.4", "START", at: F.now + 30, from: other)], at: F.now + 31)
        _ = try await store.recordReceipts([reply("wamid.3", "STOP", at: F.now, from: other)], at: F.now + 32)
        #expect(try await !store.isSuppressed(other, channel: "sms"))
        #expect(try await store.replies(sender: other, limit: 10).count == 2)
        // Both in one callback, out of order: the later one wins.
        let third = "+212622222222"
        _ = try await store.recordReceipts(
            [reply("wamid.6", "STOP", at: F.now + 50, from: third), reply("wamid.5", "START", at: F.now, from: third)],
            at: F.now + 60)
        #expect(try await store.isSuppressed(third, channel: "sms"))
        try await store.close()
    }

    /// START undoes what a customer (or the provider's opt-out error) did, never an operator's entry.
    @Test(arguments: StoreKind.allCases)
    func startNeverLiftsAnOperatorsEntry(kind: StoreKind) async throws {
        let store = try await kind.open()
        try await store.addSuppression(
            Suppression(number: number, reason: "complained by phone", source: .operator, createdAt: F.now))
        try await store.addSuppression(
            Suppression(
                number: number, scope: .channel("whatsapp"), reason: "twilio 21610", source: .providerError,
                createdAt: F.now))
        _ = try await store.recordReceipts([reply("SM1", "start")], at: F.now + 5)
        let left = try await store.suppressions(numbers: [number])
        #expect(left.map(\.source) == [.operator])
        try await store.close()
    }

    /// `opt_out_scope: channel`: the STOP holds on the channel it came on, and its START lifts only that.
    @Test(arguments: StoreKind.allCases)
    func aChannelScopedStopHoldsOnlyThatChannel(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await store.recordReceipts(
            [reply("wamid.1", "ARRÊT", channel: "whatsapp", scope: .channel("whatsapp"))], at: F.now)
        #expect(try await store.isSuppressed(number, channel: "whatsapp"))
        #expect(try await !store.isSuppressed(number, channel: "sms"))
        _ = try await store.recordReceipts([reply("SM1", "STOP")], at: F.now + 5)
        _ = try await store.recordReceipts(
            [reply("wamid.2", "START", channel: "whatsapp", scope: .channel("whatsapp"))], at: F.now + 10)
        // The every-channel STOP from the SMS channel still holds everywhere.
        #expect(try await store.suppressions(numbers: [number]).map(\.scope) == [.allChannels])
        #expect(try await store.isSuppressed(number, channel: "whatsapp"))
        try await store.close()
    }

    /// Other replies are kept and listed, and change nothing.
    @Test(arguments: StoreKind.allCases)
    func otherRepliesAreListedAndChangeNothing(kind: StoreKind) async throws {
        let store = try await kind.open()
        _ = try await store.recordReceipts([reply("SM1", "Where is my order? please stop calling")], at: F.now)
        _ = try await store.recordReceipts([reply("SM2", "merci", from: "+212633333333")], at: F.now + 1)
        #expect(try await store.suppressions(numbers: nil).isEmpty)
        let all = try await store.replies(sender: nil, limit: 10)
        #expect(all.map(\.body) == ["merci", "Where is my order? please stop calling"])
        #expect(all.map(\.optAction) == [nil, nil])
        #expect(try await store.replies(sender: number, limit: 10).count == 1)
        try await store.close()
    }
}
