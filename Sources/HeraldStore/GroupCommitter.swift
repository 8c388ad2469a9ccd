import ServiceLifecycle
import Synchronization

/// Runs writes in batches: callers that arrive while a batch is being written wait for the next
/// one and share its transaction (group commit).
///
/// The batches are written by `run()`, a `Service` that `herald serve` runs in its service group
/// (one of `SQLiteStore.services`). While it does not run (CLI commands, tests, or before it
/// starts and after it stops) each caller writes its input alone, in its own task.
///
/// The write closure gets the inputs in arrival order and returns one output per input. When it
/// throws, every caller of that batch gets the error; nothing is acknowledged that was not
/// committed.
///
/// `run()` writes one batch at a time by default (SQLite has one writer). A database that takes
/// concurrent writers (PostgreSQL) may have up to `concurrentBatches` batches written at once,
/// each on its own connection, so that one batch's round trips do not hold up the next.
final class GroupCommitter<Input: Sendable, Output: Sendable>: Service, Sendable {
    typealias Write = @Sendable ([Input]) async throws -> [Output]

    private struct State {
        /// Inputs waiting for the next batch; their callers are resumed with the output (nil: the
        /// caller writes its input itself).
        var pending: [(Input, CheckedContinuation<Output?, any Error>)] = []
        /// Wakes `run()`; nil while it does not run.
        var wake: AsyncStream<Void>.Continuation?
        /// Batches being written now, by `run()` or by callers on their own.
        var writing = 0
        /// Batches `run()` is writing now.
        var batchesInFlight = 0
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    private let write: Write
    private let concurrentBatches: Int

    init(concurrentBatches: Int = 1, write: @escaping Write) {
        self.concurrentBatches = max(1, concurrentBatches)
        self.write = write
    }

    func submit(_ input: Input) async throws -> Output {
        let written: Output? = try await withCheckedThrowingContinuation { continuation in
            let wake = state.withLock { state -> AsyncStream<Void>.Continuation? in
                guard let wake = state.wake else {
                    state.writing += 1
                    return nil
                }
                state.pending.append((input, continuation))
                return wake
            }
            if let wake { wake.yield() } else { continuation.resume(returning: nil) }
        }
        if let written { return written }
        defer { finishedBatch() }
        return try await write([input])[0]
    }

    /// Writes the batches until graceful shutdown or cancellation; then what is still queued.
    func run() async {
        let (signals, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        state.withLock { $0.wake = wake }
        wake.yield()
        await withDiscardingTaskGroup { group in
            for await _ in signals.cancelOnGracefulShutdown() {
                while let batch = takeBatch(inFlightBelow: concurrentBatches) {
                    group.addTask {
                        await self.writeBatch(batch)
                        self.state.withLock { $0.batchesInFlight -= 1 }
                        wake.yield()
                    }
                }
            }
        }
        state.withLock { $0.wake = nil }
        await writePending()
    }

    /// Everything pending as the next batch, unless `limit` batches are being written already.
    private func takeBatch(inFlightBelow limit: Int) -> [(Input, CheckedContinuation<Output?, any Error>)]? {
        state.withLock { state in
            guard state.batchesInFlight < limit, !state.pending.isEmpty else { return nil }
            let batch = state.pending
            state.pending = []
            state.batchesInFlight += 1
            state.writing += 1
            return batch
        }
    }

    /// Whether `run()` writes the batches now.
    var isRunning: Bool { state.withLock { $0.wake != nil } }

    /// Returns once everything submitted so far has been written.
    func drain() async {
        await withCheckedContinuation { continuation in
            let idle = state.withLock { state in
                if state.writing == 0, state.pending.isEmpty { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    private func writePending() async {
        while true {
            let batch = state.withLock { state in
                let batch = state.pending
                state.pending = []
                if !batch.isEmpty { state.writing += 1 }
                return batch
            }
            guard !batch.isEmpty else { return }
            await writeBatch(batch)
        }
    }

    /// Writes a batch taken from `pending` and resumes its callers.
    private func writeBatch(_ batch: [(Input, CheckedContinuation<Output?, any Error>)]) async {
        do {
            let outputs = try await write(batch.map(\.0))
            for (index, entry) in batch.enumerated() { entry.1.resume(returning: outputs[index]) }
        } catch {
            for entry in batch { entry.1.resume(throwing: error) }
        }
        finishedBatch()
    }

    private func finishedBatch() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.writing -= 1
            guard state.writing == 0, state.pending.isEmpty else { return [] }
            defer { state.idleWaiters = [] }
            return state.idleWaiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
