import Synchronization

/// Wakes an idle loop as soon as there is work (a webhook stored, a message queued), so a
/// message leaves within milliseconds instead of waiting for the next poll.
public final class Wakeup: Sendable {
    private struct State {
        var signalled = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    /// Wakes the waiting loop, or the next one to wait.
    public func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.signalled = true
            return nil
        }
        waiter?.resume()
    }

    /// Why a wait ended.
    public enum Reason: Sendable, Equatable {
        case signalled, timedOut, cancelled
    }

    /// Returns when signalled or after `timeout`, whichever comes first, or at once when the task
    /// is cancelled.
    @discardableResult
    public func wait(timeout: Duration) async -> Reason {
        await withTaskGroup(of: Reason.self) { group in
            group.addTask {
                await self.waitForSignal()
                return Task.isCancelled ? .cancelled : .signalled
            }
            group.addTask {
                do {
                    try await Task.sleep(for: timeout)
                    return .timedOut
                } catch {
                    return .cancelled
                }
            }
            let reason = await group.next() ?? .cancelled
            group.cancelAll()
            return reason
        }
    }

    private func waitForSignal() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                // Cancelled before the continuation is stored: `onCancel` has already run and found
                // nothing to resume, so resume now. Checked under the lock, so a cancellation that
                // comes later finds the continuation stored (a loop cancelled while it handled a
                // failure used to wait here forever, deaf to SIGTERM).
                let resumeNow = state.withLock { state -> Bool in
                    if Task.isCancelled { return true }
                    if state.signalled {
                        state.signalled = false
                        return true
                    }
                    state.waiter?.resume()  // a single waiter: an older one is released
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
