import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// What every store does with the suppression list.
@Suite("Every store: the suppression list")
struct SuppressionContractTests {
    typealias F = ContractFixtures
    let salma = "+212661234567"
    let rania = "+9613123456"

    func entry(
        _ number: String, _ scope: Suppression.Scope = .allChannels, source: Suppression.Source = .operator,
        reason: String = "asked by phone", at offset: TimeInterval = 0
    ) -> Suppression {
        Suppression(number: number, scope: scope, reason: reason, source: source, createdAt: F.now + offset)
    }

    @Test(arguments: StoreKind.allCases)
    func anEntryStopsItsScopeOnly(kind: StoreKind) async throws {
        let store = try kind.open()
        #expect(try await store.addSuppression(entry(salma, .channel("whatsapp"), reason: "whatsapp only")))
        #expect(try await store.addSuppression(entry(salma, at: 10)))
        #expect(try await store.addSuppression(entry(rania, .channel("whatsapp"))))
        #expect(try await store.isSuppressed(rania, channel: "whatsapp"))
        #expect(try await !store.isSuppressed(rania, channel: "sms"))
        #expect(try await !store.isSuppressed("+212600000000", channel: "sms"))
        // The every-channel entry is the one that answers: it is the one an operator lifts.
        #expect(try await store.suppression(for: salma, channel: "whatsapp")?.scope == .allChannels)
        #expect(try await store.suppressions(numbers: nil).map(\.createdAt) == [F.now + 10, F.now, F.now])
        #expect(try await store.suppressions(numbers: [rania]).map(\.number) == [rania])
        try await store.close()
    }

    /// One entry per number and scope: an operator's replaces another, nothing else does.
    @Test(arguments: StoreKind.allCases)
    func oneEntryPerNumberAndScope(kind: StoreKind) async throws {
        let store = try kind.open()
        let provider = entry(salma, source: .providerError, reason: "twilio 21610: unsubscribed")
        #expect(try await store.addSuppression(provider))
        #expect(try await !store.addSuppression(entry(salma, source: .reply, reason: "STOP", at: 10)))
        #expect(try await store.suppressions(numbers: nil) == [provider])
        let byOperator = entry(salma, at: 20)
        #expect(try await store.addSuppression(byOperator))
        #expect(try await !store.addSuppression(byOperator))
        #expect(try await store.suppressions(numbers: nil) == [byOperator])
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func removeTakesOneScopeOrEveryEntryOfTheNumber(kind: StoreKind) async throws {
        let store = try kind.open()
        try await store.addSuppression(entry(salma))
        try await store.addSuppression(entry(salma, .channel("sms")))
        try await store.addSuppression(entry(rania))
        #expect(
            try await store.removeSuppressions(number: salma, scope: .channel("sms")) == [entry(salma, .channel("sms"))]
        )
        #expect(try await store.removeSuppressions(number: salma, scope: .channel("sms")).isEmpty)
        try await store.addSuppression(entry(salma, .channel("sms")))
        #expect(try await store.removeSuppressions(number: salma, scope: nil).count == 2)
        #expect(try await store.suppressions(numbers: nil) == [entry(rania)])
        try await store.close()
    }

    /// A provider's opt-out is put on the list with the outcome of the send that revealed it.
    @Test(arguments: StoreKind.allCases)
    func aSendOutcomeCanSuppressItsRecipient(kind: StoreKind) async throws {
        let store = try kind.open()
        let eventID = try await F.recordedEventID(store)
        try await store.completeProcessing(eventID: eventID, messages: [F.message("k1", eventID: eventID)], at: F.now)
        let claimed = try await store.claimDue(now: F.now, limit: 1, lease: 60)
        let optOut = entry(salma, source: .providerError, reason: "twilio 21610: unsubscribed")
        try await store.record(
            DeliveryUpdate(state: .failed, lastError: "twilio 21610: unsubscribed", suppression: optOut),
            messageID: claimed[0].message.id, at: F.now)
        #expect(try await store.messages(MessageQuery(state: .failed)).count == 1)
        #expect(try await store.suppressions(numbers: nil) == [optOut])
        try await store.close()
    }
}
