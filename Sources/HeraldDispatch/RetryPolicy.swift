import Foundation

/// When to try again after a transient failure: a fixed, growing schedule with jitter, honouring
/// `Retry-After` when it is later.
///
/// The default schedule retries first after 5 s (4–6 s with jitter), then 30 s, 2 min, 10 min,
/// 30 min, 1 h, 2 h and 4 h: 8 retries after the first attempt, 7 h 42 min in all (at least
/// 6 h 10 min with the jitter at its lowest), then the message is `failed`.
public struct RetryPolicy: Sendable {
    /// The delay before each retry, in order; the last is repeated if `maxAttempts` asks for more.
    public var delays: [TimeInterval] = [5, 30, 120, 600, 1_800, 3_600, 7_200, 14_400]
    /// Attempts before a message is `failed` (the first send plus one per delay by default).
    public var maxAttempts = 9
    /// ± this share of the delay, so a recovering provider is not hit by every message at once.
    public var jitter: Double = 0.2

    public init() {}

    /// The scheduled delay (before jitter) after attempt number `attempts` (1 for the first send).
    public func baseDelay(afterAttempt attempts: Int) -> TimeInterval {
        guard let last = delays.last else { return 0 }
        let index = max(0, attempts - 1)
        return index < delays.count ? delays[index] : last
    }

    /// The delay before attempt `attempts + 1`; `random` in 0…1 (injected for tests).
    public func delay(afterAttempt attempts: Int, retryAfter: TimeInterval?, random: Double) -> TimeInterval {
        let jittered = baseDelay(afterAttempt: attempts) * (1 - jitter + 2 * jitter * random)
        return max(jittered, retryAfter ?? 0)
    }

    /// The shortest time from the first attempt to giving up (every delay at its lowest jitter).
    public var shortestSpan: TimeInterval {
        (1..<max(1, maxAttempts)).reduce(0) { $0 + baseDelay(afterAttempt: $1) * (1 - jitter) }
    }
}
