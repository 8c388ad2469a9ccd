import Foundation

/// How fast a channel may send: at most `rate` messages a second, and at least
/// `recipientInterval` seconds between two messages to one recipient (WhatsApp's pair rate limit).
public struct PacingLimits: Sendable, Equatable {
    /// Messages per second; nil: no limit.
    public var rate: Double?
    /// Seconds between two messages to one recipient; nil: no pacing.
    public var recipientInterval: TimeInterval?

    public init(rate: Double? = nil, recipientInterval: TimeInterval? = nil) {
        self.rate = rate
        self.recipientInterval = recipientInterval
    }

    /// Whether the channel is paced at all.
    public var paces: Bool { (rate ?? 0) > 0 || recipientInterval != nil }

    /// The limits rules.yaml gives: `rate` on any channel, `recipient_interval` (default 6 s on
    /// whatsapp-cloud, following Meta's per-recipient pair limit).
    public static func limits(for configuration: ChannelConfiguration) -> PacingLimits {
        let common = configuration.common
        return PacingLimits(
            rate: common.rate,
            recipientInterval: common.recipientInterval ?? (configuration.isWhatsAppCloud ? 6 : nil))
    }

    /// Every channel's limits, by name.
    public static func limits(for channels: [RuleSet.Channel]) -> [String: PacingLimits] {
        Dictionary(channels.map { ($0.name, limits(for: $0.configuration)) }, uniquingKeysWith: { first, _ in first })
    }
}

/// The pacing decision for one send, from what earlier sends booked: the channel's next free
/// slot and the last send to the recipient. The one place it is made, for the in-process
/// limiter of one instance and for the state several instances share in their database.
public struct PacingDecision: Sendable, Equatable {
    /// When the send may go.
    public var at: Date
    /// What to book (nil: leave as it was): the channel's next slot, the recipient's last send.
    public var nextSlot: Date?
    public var lastToRecipient: Date?

    /// The slot at or after `now`. A slot more than `maxWait` away is returned but not booked: the
    /// caller puts the message back in the queue until then, and it must find the slot free when
    /// it comes back (booked, it would push itself one interval further each time, forever).
    public static func decide(
        _ limits: PacingLimits, nextSlot: Date?, lastToRecipient: Date?, now: Date, maxWait: TimeInterval
    ) -> PacingDecision {
        var at = now
        if let interval = limits.recipientInterval, let last = lastToRecipient {
            at = max(at, last.addingTimeInterval(interval))
        }
        let rate = limits.rate ?? 0
        if rate > 0, let nextSlot { at = max(at, nextSlot) }
        guard at.timeIntervalSince(now) <= maxWait else { return PacingDecision(at: at) }
        return PacingDecision(
            at: at, nextSlot: rate > 0 ? at.addingTimeInterval(1 / rate) : nil,
            lastToRecipient: limits.recipientInterval != nil ? at : nil)
    }
}

/// Books send slots under each channel's `PacingLimits`: in process for one instance
/// (`RateLimiter`), in the database for several sharing it, so the limits hold across them.
public protocol SendPacing: Sendable {
    /// Reserves a send on `channel` to `recipient` at or after `now`; returns when it may go (a
    /// slot more than `maxWait` away is not booked, as `PacingDecision` says).
    func reserve(channel: String, recipient: String, now: Date, bookingWithin maxWait: TimeInterval) async throws
        -> Date
}
