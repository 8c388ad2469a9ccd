import Foundation
import HeraldCore

/// What a store needs from the rules to plan a fallback when a receipt says a message cannot
/// reach its customer: each rule's `fallback` channel, and how that channel counts SMS.
///
/// Planned in the transaction that records the receipt (`ReceiptStore.recordReceipts`), so a
/// crash never loses it and the provider's retry of the receipt cannot plan it twice.
public struct ReceiptFallbacks: Sendable, Equatable {
    /// WhatsApp's codes for "this channel cannot reach this customer": 131026 (not a WhatsApp
    /// number, or undeliverable), 131047 (more than 24 h since the customer wrote). Other codes
    /// (a bad parameter, a rate limit) would fail on the fallback channel too, or pass with time.
    public static let unreachableCodes: Set<String> = ["131026", "131047"]

    /// A rule's fallback channel, by rule id.
    public var channels: [String: String]
    /// The channels that replace typographic characters before counting SMS (`smart_encoding`).
    public var smartEncoding: Set<String>
    /// The channels that send templates (WhatsApp Cloud), whose messages carry no SMS count.
    public var templateChannels: Set<String>

    public init(channels: [String: String] = [:], smartEncoding: Set<String> = [], templateChannels: Set<String> = []) {
        self.channels = channels
        self.smartEncoding = smartEncoding
        self.templateChannels = templateChannels
    }

    /// The fallbacks `rules.yaml` declares: a rule's `fallback` naming a channel it defines.
    public init(ruleSet: RuleSet) {
        var channels: [String: String] = [:]
        for rule in ruleSet.rules {
            guard let send = rule.send, let fallback = send.fallback, ruleSet.channel(named: fallback) != nil
            else { continue }
            channels[rule.id] = fallback
        }
        self.init(
            channels: channels,
            smartEncoding: Set(ruleSet.channels.filter(\.configuration.smartEncoding).map(\.name)),
            templateChannels: Set(ruleSet.channels.filter { $0.type == "whatsapp-cloud" }.map(\.name)))
    }

    /// No fallback is ever planned.
    public static let none = ReceiptFallbacks()

    /// The message to plan on the fallback channel when `message` is reported undelivered with
    /// `errorCode`; nil when the code does not say the customer is out of reach, or the rule has
    /// no fallback other than the message's own channel. Same event, rule, recipient and text;
    /// its own key (`IdempotencyKey.fallback`), due at once (the dispatcher still applies quiet
    /// hours and the suppression list).
    public func message(replacing message: OutboxMessage, errorCode: String?, at now: Date) -> OutboxMessage? {
        guard let errorCode, Self.unreachableCodes.contains(errorCode), let channel = channels[message.rule],
            channel != message.channel
        else { return nil }
        var text = message.text
        var encoding: SMSEncoding?
        if !templateChannels.contains(channel) {
            if smartEncoding.contains(channel), let replaced = SMSEncoding.smartReplaced(text) { text = replaced }
            encoding = SMSEncoding.of(text)
        }
        return OutboxMessage(
            idempotencyKey: IdempotencyKey.fallback(of: message.idempotencyKey, channel: channel),
            eventID: message.eventID, provider: message.provider, orderReference: message.orderReference,
            rule: message.rule, channel: channel, recipient: message.recipient, locale: message.locale, text: text,
            encoding: encoding?.alphabet.rawValue, segments: encoding?.segments, state: .pending, nextAttemptAt: now,
            lastError: nil, createdAt: now,
            whatsapp: templateChannels.contains(channel) ? message.whatsapp : nil)
    }
}
