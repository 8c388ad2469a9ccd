import Synchronization

/// Runs writes in batches: callers that arrive while a batch is being written wait for the next
/// one and share its transaction (group commit).
///
/// The write closure gets every queued input in arrival order and returns one output per input.
/// When it throws, every caller of that batch gets the error; nothing is acknowledged that was
/// not committed.
final class GroupCommitter<Input: Sendable, Output: Sendable>: Sendable {
    typealias Write = @Sendable ([Input]) async throws -> [Output]

    private struct State {
        var pending: [(Input, CheckedContinuation<Output, any Error>)] = []
        var writing = false
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    private let write: Write

    init(write: @escaping Write) {
        self.write = write
    }

    func submit(_ input: Input) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            let startWriter = state.withLock { state in
                state.pending.append((input, continuation))
                if state.writing { return false }
                state.writing = true
                return true
            }
            if startWriter {
                Task { await self.writeLoop() }
            }
        }
    }

    /// Returns once everything submitted so far has been written.
    func drain() async {
        await withCheckedContinuation { continuation in
            let idle = state.withLock { state in
                if !state.writing { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    private func writeLoop() async {
        while true {
            let batch: [(Input, CheckedContinuation<Output, any Error>)]
            let waiters: [CheckedContinuation<Void, Never>]
            (batch, waiters) = state.withLock { state in
                let batch = state.pending
                state.pending = []
                if batch.isEmpty {
                    state.writing = false
                    let waiters = state.idleWaiters
                    state.idleWaiters = []
                    return (batch, waiters)
                }
                return (batch, [])
            }
            if batch.isEmpty {
                for waiter in waiters { waiter.resume() }
                return
            }
            do {
                let outputs = try await write(batch.map(\.0))
                for (index, entry) in batch.enumerated() { entry.1.resume(returning: outputs[index]) }
            } catch {
                for entry in batch { entry.1.resume(throwing: error) }
            }
        }
    }
}
