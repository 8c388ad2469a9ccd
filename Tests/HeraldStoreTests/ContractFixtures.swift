import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// Events and messages the contract tests store.
enum ContractFixtures {
    static let now = Date(timeIntervalSince1970: 1_778_414_400)

    /// Loaded once for every test: a load per event holds a thread of the test pool.
    static let ruleSet = Result { try Fixtures.shippedRuleSet() }

    static func incoming(_ provider: String, body: [UInt8]) throws -> IncomingEvent {
        let profile = try #require(try ruleSet.get().provider(named: provider))
        let request = Fixtures.request(provider: provider, body: body)
        return IncomingEvent(request: request, profile: profile)
    }

    /// The id of a newly recorded event, for messages to belong to.
    static func recordedEventID(
        _ store: any Store, reference: String = "ORD-1", from old: String = "out_for_delivery",
        to new: String = "delivered"
    ) async throws -> Int64 {
        try await Fixtures.recordedEventID(store, ruleSet: ruleSet.get(), reference: reference, from: old, to: new)
    }

    /// `Fixtures.decideWaiting` with the shipped rules.
    @discardableResult
    static func decideWaiting(_ store: any Store, lease: TimeInterval = 0) async throws -> [PreparedEvent] {
        try await Fixtures.decideWaiting(store, ruleSet: ruleSet.get(), now: now, lease: lease)
    }

    static func message(
        _ key: String, eventID: Int64, state: OutboxMessage.State = .pending, due: Date? = now,
        recipient: String = "+212661234567", reference: String = "ORD-1"
    ) -> OutboxMessage {
        OutboxMessage(
            idempotencyKey: key, eventID: eventID, provider: "cod-fulfillment", orderReference: reference,
            rule: "delivered", channel: "sms", recipient: recipient, locale: "fr", text: "Bonjour", encoding: "GSM-7",
            segments: 1, state: state, nextAttemptAt: due, lastError: nil, createdAt: now)
    }
}
