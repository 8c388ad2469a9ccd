import HeraldServer
import HeraldTestSupport
import Testing

@Suite("Wakeup")
struct WakeupTests {
    @Test func aSignalEndsTheWaitLongBeforeItsTimeout() async {
        let wakeup = Wakeup()
        let clock = ContinuousClock()
        // Signalled before waiting: the next wait returns at once.
        wakeup.signal()
        // Bounds far below the timeouts and far above any scheduling delay of a loaded machine.
        var started = clock.now
        await wakeup.wait(timeout: .seconds(120))
        #expect(clock.now - started < .seconds(60))
        // Signalled while waiting.
        started = clock.now
        async let waited: Void = wakeup.wait(timeout: .seconds(120))
        try? await Task.sleep(for: .milliseconds(50))
        wakeup.signal()
        await waited
        #expect(clock.now - started < .seconds(60))
        // No signal: the timeout ends the wait.
        started = clock.now
        await wakeup.wait(timeout: .milliseconds(50))
        #expect(clock.now - started >= .milliseconds(50))
    }
}

/// The hang behind "a busy port ignores SIGTERM": a loop cancelled while it handled a failure
/// waited forever in `Wakeup`, whose cancellation handler had run before the wait began.
@Suite("Cancellation ends the loops")
struct CancellationTests {
    @Test func aCancelledTaskDoesNotWait() async {
        let wakeup = Wakeup()
        let clock = ContinuousClock()
        let started = clock.now
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            await wakeup.wait(timeout: .seconds(60))
        }
        await task.value
        // Half the timeout: a loaded machine may delay the task by seconds, never by the timeout.
        #expect(clock.now - started < .seconds(30))
    }

    @Test func aWorkLoopEndsOnCancellationWithoutCallingItAFailure() async {
        let logs = LogRecorder()
        let loop = WorkLoop(name: "test", wakeup: Wakeup(), idleInterval: .seconds(60), logger: logs.logger()) {
            try await Task.sleep(for: .seconds(60))  // throws CancellationError when cancelled
            return 0
        }
        let clock = ContinuousClock()
        let task = Task { try await loop.run() }
        try? await Task.sleep(for: .milliseconds(50))
        let started = clock.now
        task.cancel()
        _ = try? await task.value
        #expect(clock.now - started < .seconds(5))
        #expect(!logs.text.contains("work failed"))
    }
}
