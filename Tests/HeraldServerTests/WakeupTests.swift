import HeraldServer
import Testing

@Suite("Wakeup")
struct WakeupTests {
    @Test func aSignalEndsTheWaitLongBeforeItsTimeout() async {
        let wakeup = Wakeup()
        let clock = ContinuousClock()
        // Signalled before waiting: the next wait returns at once.
        wakeup.signal()
        var started = clock.now
        await wakeup.wait(timeout: .seconds(30))
        #expect(clock.now - started < .seconds(10))
        // Signalled while waiting.
        started = clock.now
        async let waited: Void = wakeup.wait(timeout: .seconds(30))
        try? await Task.sleep(for: .milliseconds(50))
        wakeup.signal()
        await waited
        #expect(clock.now - started < .seconds(10))
        // No signal: the timeout ends the wait.
        started = clock.now
        await wakeup.wait(timeout: .milliseconds(50))
        #expect(clock.now - started >= .milliseconds(50))
    }
}
