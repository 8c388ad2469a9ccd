import Foundation
import GRDB
import HeraldCore
import HeraldTestSupport
import Testing

@testable import HeraldStore

@Suite("The suppression list (every kind where parameterized)")
struct SuppressionStoreTests {
    let now = Date(timeIntervalSince1970: 1_778_414_400)
    let salma = "+212661234567"
    let rania = "+9613123456"

    func entry(
        _ number: String, _ scope: Suppression.Scope = .allChannels, source: Suppression.Source = .operator,
        reason: String = "asked by phone", at offset: TimeInterval = 0
    ) -> Suppression {
        Suppression(number: number, scope: scope, reason: reason, source: source, createdAt: now + offset)
    }

    @Test(arguments: StoreKind.allCases)
    func anEveryChannelEntryStopsEveryChannelAndAChannelEntryOnlyItsOwn(kind: StoreKind) async throws {
        let store = try await kind.open()
        #expect(try await store.addSuppression(entry(salma)))
        #expect(try await store.addSuppression(entry(rania, .channel("whatsapp"))))
        #expect(try await store.isSuppressed(salma, channel: "sms"))
        #expect(try await store.isSuppressed(salma, channel: "whatsapp"))
        #expect(try await store.isSuppressed(rania, channel: "whatsapp"))
        #expect(try await !store.isSuppressed(rania, channel: "sms"))
        #expect(try await !store.isSuppressed("+212600000000", channel: "sms"))
        #expect(try await store.suppression(for: salma, channel: "sms")?.reason == "asked by phone")
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func theEveryChannelEntryAnswersAndTheListIsNewestFirst(kind: StoreKind) async throws {
        let store = try await kind.open()
        #expect(try await store.addSuppression(entry(salma, .channel("whatsapp"), reason: "whatsapp only")))
        #expect(try await store.addSuppression(entry(salma, at: 10)))
        #expect(try await store.addSuppression(entry(rania, .channel("whatsapp"))))
        #expect(try await store.isSuppressed(rania, channel: "whatsapp"))
        #expect(try await !store.isSuppressed(rania, channel: "sms"))
        #expect(try await !store.isSuppressed("+212600000000", channel: "sms"))
        // The every-channel entry is the one that answers: it is the one an operator lifts.
        #expect(try await store.suppression(for: salma, channel: "whatsapp")?.scope == .allChannels)
        #expect(try await store.suppressions(numbers: nil).map(\.createdAt) == [now + 10, now, now])
        #expect(try await store.suppressions(numbers: [rania]).map(\.number) == [rania])
        try await store.close()
    }

    @Test func theListSurvivesReopeningNewestFirst() async throws {
        let path = Fixtures.temporaryDatabasePath()
        let store = try SQLiteStore(path: path)
        try await store.addSuppression(entry(salma, source: .providerError, reason: "twilio 21610: unsubscribed"))
        try await store.addSuppression(entry(rania, .channel("sms"), at: 60))
        try await store.close()

        let reopened = try SQLiteStore(path: path)
        let list = try await reopened.suppressions(numbers: nil)
        #expect(
            list == [
                entry(rania, .channel("sms"), at: 60),
                entry(salma, source: .providerError, reason: "twilio 21610: unsubscribed"),
            ])
        #expect(try await reopened.suppressions(numbers: [salma]).map(\.number) == [salma])
        #expect(try await reopened.suppressions(numbers: ["+212600000000"]).isEmpty)
        try await reopened.close()
    }

    /// One entry per number and scope; an operator's entry wins over the provider's (START never
    /// lifts an operator's), a provider's error never replaces an operator's.
    @Test(arguments: StoreKind.allCases)
    func oneEntryPerNumberAndScope(kind: StoreKind) async throws {
        let store = try await kind.open()
        let provider = entry(salma, source: .providerError, reason: "twilio 21610: unsubscribed")
        #expect(try await store.addSuppression(provider))
        #expect(try await !store.addSuppression(entry(salma, source: .providerError, reason: "again", at: 10)))
        #expect(try await store.suppressions(numbers: nil) == [provider])

        let manual = entry(salma, reason: "the customer called", at: 20)
        #expect(try await store.addSuppression(manual))
        #expect(try await !store.addSuppression(entry(salma, source: .providerError, reason: "later 21610", at: 30)))
        #expect(try await !store.addSuppression(entry(salma, source: .reply, reason: "STOP", at: 25)))
        #expect(try await store.suppressions(numbers: nil) == [manual])

        // A channel entry is another entry for the same number.
        #expect(try await store.addSuppression(entry(salma, .channel("sms"), at: 40)))
        #expect(try await store.suppressions(numbers: [salma]).count == 2)
        try await store.close()
    }

    @Test(arguments: StoreKind.allCases)
    func removeTakesOneScopeOrEveryEntryOfTheNumber(kind: StoreKind) async throws {
        let store = try await kind.open()
        try await store.addSuppression(entry(salma))
        try await store.addSuppression(entry(salma, .channel("whatsapp")))
        try await store.addSuppression(entry(rania))

        let whatsapp = try await store.removeSuppressions(number: salma, scope: .channel("whatsapp"))
        #expect(whatsapp == [entry(salma, .channel("whatsapp"))])
        #expect(try await store.isSuppressed(salma, channel: "whatsapp"))  // the every-channel entry is still there

        #expect(try await store.removeSuppressions(number: salma, scope: nil) == [entry(salma)])
        #expect(try await !store.isSuppressed(salma, channel: "sms"))
        #expect(try await store.removeSuppressions(number: salma, scope: nil).isEmpty)
        #expect(try await store.suppressions(numbers: nil).map(\.number) == [rania])
        try await store.close()
    }

    /// A number that opted out is put on the list in the same transaction as the outcome of the
    /// send that revealed it.
    @Test(arguments: StoreKind.allCases)
    func aSendOutcomeCanSuppressItsRecipient(kind: StoreKind) async throws {
        let store = try await kind.open()
        let message = OutboxMessage(
            idempotencyKey: "k1", eventID: 1, provider: "cod-fulfillment", orderReference: "ORD-1", rule: "delivered",
            channel: "sms", recipient: salma, locale: "fr", text: "Bonjour", encoding: "GSM-7", segments: 1,
            state: .pending, nextAttemptAt: now, lastError: nil, createdAt: now)
        try await store.completeProcessing(eventID: try await recordedEventID(store), messages: [message], at: now)
        let claimed = try await store.claimDue(now: now, limit: 1, lease: 60)
        let optOut = entry(salma, source: .providerError, reason: "twilio 21610: unsubscribed")
        try await store.record(
            DeliveryUpdate(state: .failed, lastError: "twilio 21610: unsubscribed", suppression: optOut),
            messageID: claimed[0].message.id, at: now)
        #expect(try await store.messages(MessageQuery(state: .failed)).count == 1)
        #expect(try await store.suppressions(numbers: nil) == [optOut])
        try await store.close()
    }

    /// Every state DESIGN.md lists may be stored, `suppressed` among them (v2's CHECK had five).
    @Test(arguments: StoreKind.allCases)
    func aSuppressedMessageIsStoredAndListedByState(kind: StoreKind) async throws {
        let store = try await kind.open()
        let message = OutboxMessage(
            idempotencyKey: "k2", eventID: 1, provider: "cod-fulfillment", orderReference: "ORD-2", rule: "delivered",
            channel: "sms", recipient: salma, locale: "fr", text: "Bonjour", encoding: "GSM-7", segments: 1,
            state: .suppressed, nextAttemptAt: nil, lastError: "suppressed (operator): asked by phone", createdAt: now)
        try await store.completeProcessing(eventID: try await recordedEventID(store), messages: [message], at: now)
        let listed = try await store.messages(MessageQuery(state: .suppressed))
        #expect(listed.map(\.lastError) == ["suppressed (operator): asked by phone"])
        #expect(try await store.claimDue(now: now + 3600, limit: 10, lease: 60).isEmpty)
        try await store.close()
    }

    /// A store written by the previous version (migrations up to v5) keeps its outbox when it
    /// is opened: the messages table is rebuilt with the new states, rows and indexes kept.
    @Test func aStoreOfThePreviousVersionKeepsItsOutbox() async throws {
        let path = Fixtures.temporaryDatabasePath()
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: path)
        try SQLiteStore.migrator.migrate(queue, upTo: "v5-order-memory")
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO events (provider, dedupe_key, received_at, headers, body) VALUES ('p', 'd', 0, '[]', x'7B7D');
                    INSERT INTO messages (idempotency_key, event_id, provider, rule, channel, recipient, locale, text, state,
                                          created_at, whatsapp)
                    VALUES ('old-key', 1, 'p', 'delivered', 'sms', '+212661234567', 'fr', 'Bonjour', 'held', 0, NULL);
                    """)
        }
        try queue.close()

        let store = try SQLiteStore(path: path)
        let held = try await store.messages(MessageQuery(state: .held))
        #expect(held.map(\.idempotencyKey) == ["old-key"])
        #expect(try await store.release(ids: held.map(\.id), at: now) == held.map(\.id))
        let claimed = try await store.claimDue(now: now, limit: 10, lease: 60)
        try await store.record(
            DeliveryUpdate(state: .suppressed, lastError: "suppressed (operator): x"), messageID: claimed[0].message.id,
            at: now)
        #expect(try await store.messages(MessageQuery(state: .suppressed)).count == 1)
        // The outbox's key is still UNIQUE: the same message is not planned twice.
        let again = OutboxMessage(
            idempotencyKey: "old-key", eventID: 1, provider: "p", orderReference: nil, rule: "delivered",
            channel: "sms",
            recipient: salma, locale: "fr", text: "Bonjour", encoding: nil, segments: nil, state: .pending,
            nextAttemptAt: now, lastError: nil, createdAt: now)
        #expect(try await store.completeProcessing(eventID: 1, messages: [again], at: now) == 0)
        try await store.close()
    }

    func recordedEventID(_ store: any Store) async throws -> Int64 {
        let ruleSet = try Fixtures.shippedRuleSet()
        let profile = try #require(ruleSet.provider(named: "cod-fulfillment"))
        let request = Fixtures.request(
            provider: "cod-fulfillment", body: Fixtures.sample("cod-fulfillment", "delivered.json"))
        let outcome = try await store.record(
            IncomingEvent(request: request, profile: profile))
        guard case .accepted(let summary) = outcome else { throw StoreError("not accepted: \(outcome)") }
        return summary.id
    }
}
