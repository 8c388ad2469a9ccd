import ServiceLifecycle
import Synchronization

/// Runs writes in batches: callers that arrive while a batch is being written wait for the next
/// one and share its transaction (group commit).
///
/// Batches are written by their callers, not by a writer task of their own: a caller that finds
/// a batch slot free writes at once, in its own task; callers that arrive while every slot is
/// taken queue up, and the caller whose batch finishes hands the whole queue to the first of them,
/// which writes it for all (leader and followers). Before, each event went request task → writer
/// task (woken through a stream) → a child task per batch → back: two task hops per batch that a
/// direct hand-off avoids (issue 16, intake fast path). With several batch slots (PostgreSQL), a
/// caller that finds a slot free while other batches are in flight yields once before it takes
/// the queue, so the callers arriving in that turn share its transaction (without it each took a
/// slot alone: 1 089 against 1 295 webhooks/s in bench/pgintake, medians of three).
///
/// `run()`, a `Service` that `herald serve` runs in its service group (one of
/// `SQLiteStore.services`), turns the grouping on until graceful shutdown, then waits for what is
/// queued. While it does not run (CLI commands, tests, or before it starts and after it stops)
/// each caller writes its input alone.
///
/// The write closure gets the inputs in arrival order and returns one output per input. When it
/// throws, every caller of that batch gets the error; nothing is acknowledged that was not
/// committed. The batch runs in its leader's task: were that task cancelled during the write, the
/// batch fails for all its callers (answered 503, so the senders retry), never half-acknowledged.
///
/// One batch is written at a time by default (SQLite has one writer). A database that takes
/// concurrent writers (PostgreSQL) may have up to `concurrentBatches` batches written at once,
/// each on its own connection, so that one batch's round trips do not hold up the next.
final class GroupCommitter<Input: Sendable, Output: Sendable>: Service, Sendable {
    typealias Write = @Sendable ([Input]) async throws -> [Output]

    /// What a caller does with its input.
    private enum Turn: Sendable {
        /// Grouping is off: write it alone.
        case alone
        /// Write it, with these queued callers' inputs after it, and answer them.
        case lead([Entry])
        /// Take a free slot beside batches in flight: let the callers arriving meanwhile queue
        /// (one yield), then lead them.
        case gather
        /// Another caller wrote it in its batch.
        case written(Output)
    }

    private typealias Entry = (input: Input, continuation: CheckedContinuation<Turn, any Error>)

    private struct State {
        /// Callers waiting for the next batch (while every batch slot is taken, or a gatherer is
        /// about to take them).
        var pending: [Entry] = []
        /// Whether `run()` runs: callers are grouped.
        var isRunning = false
        /// Batch slots taken by grouped writes; a finishing batch passes its slot to the queue.
        var batchesInFlight = 0
        /// A caller is gathering the queue for a free slot (`Turn.gather`).
        var gathering = false
        /// Batches being written now, grouped or alone.
        var writing = 0
        var idleWaiters: [CheckedContinuation<Void, Never>] = []

        /// The caller's turn when it need not wait; nil when every batch slot is taken.
        mutating func immediateTurn(limit: Int) -> Turn? {
            if !isRunning {
                writing += 1
                return .alone
            }
            // Idle: nothing to group with, write at once (SQLite's case whenever its one batch slot
            // is free). Beside batches in flight (PostgreSQL's concurrent batches) a slot is taken
            // by one gatherer at a time, so that it carries the callers arriving meanwhile rather
            // than each of them its own transaction.
            guard batchesInFlight < limit, batchesInFlight == 0 || !gathering else { return nil }
            let idle = batchesInFlight == 0
            batchesInFlight += 1
            writing += 1
            if idle { return .lead([]) }
            gathering = true
            return .gather
        }
    }

    private let state = Mutex(State())
    private let write: Write
    private let concurrentBatches: Int

    init(concurrentBatches: Int = 1, write: @escaping Write) {
        self.concurrentBatches = max(1, concurrentBatches)
        self.write = write
    }

    func submit(_ input: Input) async throws -> Output {
        // The common case at low load takes no continuation at all.
        let turn: Turn
        if let now = state.withLock({ $0.immediateTurn(limit: concurrentBatches) }) {
            turn = now
        } else {
            turn = try await withCheckedThrowingContinuation { continuation in
                // Decided again under the lock that queues: a batch may have finished meanwhile.
                let now = state.withLock { state -> Turn? in
                    if let now = state.immediateTurn(limit: concurrentBatches) { return now }
                    state.pending.append((input, continuation))
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        }
        switch turn {
        case .alone:
            defer { finishedBatch() }
            return try await write([input])[0]
        case .lead(let followers):
            return try await lead(input, followers: followers)
        case .gather:
            // A batching window as long as one turn of the task pool: what the writer task's
            // wake-up gave before, without a task of its own.
            await Task.yield()
            let followers = state.withLock { state -> [Entry] in
                state.gathering = false
                defer { state.pending = [] }
                return state.pending
            }
            return try await lead(input, followers: followers)
        case .written(let output):
            return output
        }
    }

    /// Writes `input` and the followers' inputs in one batch, passes the batch slot on, then
    /// answers the followers.
    private func lead(_ input: Input, followers: [Entry]) async throws -> Output {
        let result: Result<[Output], any Error>
        do {
            result = .success(try await write([input] + followers.map(\.input)))
        } catch {
            result = .failure(error)
        }
        // The next batch starts before this one's callers are resumed.
        handOff()
        defer { finishedBatch() }
        switch result {
        case .success(let outputs):
            for (index, follower) in followers.enumerated() {
                follower.continuation.resume(returning: .written(outputs[index + 1]))
            }
            return outputs[0]
        case .failure(let error):
            for follower in followers { follower.continuation.resume(throwing: error) }
            throw error
        }
    }

    /// A finished batch's slot: to the first queued caller, with every queued caller behind it;
    /// freed when none waits.
    private func handOff() {
        let queued = state.withLock { state -> [Entry] in
            // While a gatherer holds a slot, the queue is its to take.
            guard !state.pending.isEmpty, !state.gathering else {
                state.batchesInFlight -= 1
                return []
            }
            state.writing += 1
            defer { state.pending = [] }
            return state.pending
        }
        guard let first = queued.first else { return }
        first.continuation.resume(returning: .lead(Array(queued.dropFirst())))
    }

    /// Groups the callers until graceful shutdown or cancellation; then waits for what is queued.
    func run() async {
        state.withLock { $0.isRunning = true }
        try? await gracefulShutdown()
        state.withLock { $0.isRunning = false }
        await drain()
    }

    /// Whether `run()` groups the callers now.
    var isRunning: Bool { state.withLock { $0.isRunning } }

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
