import Foundation
import HeraldDispatch
import Testing

@Suite("Retry schedule")
struct RetryPolicyTests {
    let policy = RetryPolicy()

    @Test(arguments: [0.0, 0.5, 1.0])
    func theFirstRetryComesWithinTenSeconds(random: Double) {
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil, random: random) <= 10)
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil, random: random) >= 4)
    }

    @Test func delaysGrowToHoursAndLastAtLeastSixHoursInAll() {
        let delays = (1..<policy.maxAttempts).map { policy.baseDelay(afterAttempt: $0) }
        #expect(zip(delays, delays.dropFirst()).allSatisfy { $0 < $1 })
        #expect(delays.last! >= 3_600)
        #expect(policy.shortestSpan >= 6 * 3_600)
        // Past the schedule, the last delay repeats rather than growing without bound.
        #expect(policy.baseDelay(afterAttempt: 50) == delays.last)
    }

    @Test func retryAfterWinsOnlyWhenLater() {
        #expect(policy.delay(afterAttempt: 1, retryAfter: 900, random: 0.5) == 900)
        #expect(policy.delay(afterAttempt: 4, retryAfter: 1, random: 0.5) == 600)
    }

    @Test func jitterSpreadsEachDelayByAFifth() {
        #expect(abs(policy.delay(afterAttempt: 3, retryAfter: nil, random: 0) - 96) < 1e-9)
        #expect(abs(policy.delay(afterAttempt: 3, retryAfter: nil, random: 1) - 144) < 1e-9)
    }
}
