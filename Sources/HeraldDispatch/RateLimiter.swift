import Foundation
import HeraldCore
import Synchronization

/// Paces sends: at most `rate` messages a second per channel, and at least `recipientInterval`
/// seconds between two messages to the same recipient on a channel (WhatsApp's pair rate limit).
public final class RateLimiter: Sendable {
    public struct Limits: Sendable, Equatable {
        /// Messages per second; nil: no limit.
        public var rate: Double?
        /// Seconds between two messages to one recipient; nil: no pacing.
        public var recipientInterval: TimeInterval?

        public init(rate: Double? = nil, recipientInterval: TimeInterval? = nil) {
            self.rate = rate
            self.recipientInterval = recipientInterval
        }
    }

    private struct State {
        var nextSlot: [String: Date] = [:]
        var lastToRecipient: [String: Date] = [:]
    }

    private let limits: [String: Limits]
    private let state = Mutex(State())

    public init(limits: [String: Limits]) {
        self.limits = limits
    }

    /// Reserves a send on `channel` to `recipient` at or after `now`; returns when it may go.
    ///
    /// A slot more than `maxWait` away is returned but not booked: the caller puts the message
    /// back in the queue until then, and it must find the slot free when it comes back (booked,
    /// it would push itself one interval further each time, forever).
    public func reserve(
        channel: String, recipient: String, now: Date, bookingWithin maxWait: TimeInterval = .infinity
    ) -> Date {
        guard let limit = limits[channel], limit.rate != nil || limit.recipientInterval != nil else { return now }
        return state.withLock { state in
            var at = now
            let pairKey = channel + "\u{1F}" + recipient
            if let interval = limit.recipientInterval, let last = state.lastToRecipient[pairKey] {
                at = max(at, last.addingTimeInterval(interval))
            }
            if let rate = limit.rate, rate > 0 { at = max(at, state.nextSlot[channel] ?? at) }
            guard at.timeIntervalSince(now) <= maxWait else { return at }
            if let rate = limit.rate, rate > 0 { state.nextSlot[channel] = at.addingTimeInterval(1 / rate) }
            if limit.recipientInterval != nil { state.lastToRecipient[pairKey] = at }
            if state.lastToRecipient.count > 50_000 {
                state.lastToRecipient = state.lastToRecipient.filter { $0.value > now.addingTimeInterval(-3600) }
            }
            return at
        }
    }

    /// The limits rules.yaml gives: `rate` on any channel, `recipient_interval` (default 6 s on
    /// whatsapp-cloud, following Meta's per-recipient pair limit).
    public static func limits(for configuration: ChannelConfiguration) -> Limits {
        let common = configuration.common
        return Limits(
            rate: common.rate,
            recipientInterval: common.recipientInterval ?? (configuration.isWhatsAppCloud ? 6 : nil))
    }
}
