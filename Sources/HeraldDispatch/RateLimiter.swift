import Foundation
import HeraldCore
import Synchronization

/// Paces sends in this process: at most `rate` messages a second per channel, and at least
/// `recipientInterval` seconds between two messages to the same recipient on a channel
/// (`PacingDecision` decides). Exact for one instance; instances sharing a database pace through
/// it instead (`Store.sharedPacer`).
public final class RateLimiter: SendPacing {
    public typealias Limits = PacingLimits

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
    public func reserve(
        channel: String, recipient: String, now: Date, bookingWithin maxWait: TimeInterval = .infinity
    ) -> Date {
        guard let limit = limits[channel], limit.paces else { return now }
        return state.withLock { state in
            let pairKey = channel + "\u{1F}" + recipient
            let decision = PacingDecision.decide(
                limit, nextSlot: state.nextSlot[channel], lastToRecipient: state.lastToRecipient[pairKey], now: now,
                maxWait: maxWait)
            if let next = decision.nextSlot { state.nextSlot[channel] = next }
            if let last = decision.lastToRecipient { state.lastToRecipient[pairKey] = last }
            if state.lastToRecipient.count > 50_000 {
                state.lastToRecipient = state.lastToRecipient.filter { $0.value > now.addingTimeInterval(-3600) }
            }
            return decision.at
        }
    }

    /// The limits rules.yaml gives a channel (`PacingLimits.limits(for:)`).
    public static func limits(for configuration: ChannelConfiguration) -> Limits {
        PacingLimits.limits(for: configuration)
    }
}
