import HeraldServer
import HeraldTestSupport
import Testing

@Suite("Wakeup")
struct WakeupTests {
    // Why each wait ended, not how long it took: the suite runs in parallel on a 2-core machine,
    // where a task may wait seconds for a thread.
    @Test func aSignalEndsTheWaitBeforeItsTimeout() async {
        let wakeup = Wakeup()
        // Signalled before waiting: the next wait returns at once.
        wakeup.signal()
        #expect(await wakeup.wait(timeout: .seconds(30)) == .signalled)
        // Signalled while waiting.
        async let waited = wakeup.wait(timeout: .seconds(30))
        try? await Task.sleep(for: .milliseconds(50))
        wakeup.signal()
        #expect(await waited == .signalled)
        // No signal: the timeout ends the wait, not before it.
        let clock = ContinuousClock()
        let started = clock.now
        #expect(await wakeup.wait(timeout: .milliseconds(50)) == .timedOut)
        #expect(clock.now - started >= .milliseconds(50))
    }
}

/// The hang behind "a busy port ignores SIGTERM": a loop cancelled while it handled a failure
/// waited forever in `Wakeup`, whose cancellation handler had run before the wait began.
@Suite("Cancellation ends the loops")
struct CancellationTests {
    @Test(.timeLimit(.minutes(1))) func aCancelledTaskDoesNotWait() async {
        let wakeup = Wakeup()
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await wakeup.wait(timeout: .seconds(60))
        }
        // Ended by the cancellation, not by the 60 s timeout (a hang fails the time limit).
        #expect(await task.value == .cancelled)
    }

    @Test(.timeLimit(.minutes(1))) func aWorkLoopEndsOnCancellationWithoutCallingItAFailure() async {
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
        // Far below the 60 s the work sleeps, with room for a loaded machine (the suite runs in parallel).
        #expect(clock.now - started < .seconds(30))
        #expect(!logs.text.contains("work failed"))
    }
}
