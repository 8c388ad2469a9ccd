import Foundation
import Logging
import PostgresNIO
import Synchronization

/// A leased connection whose every statement is answered within `limit`, or the connection is
/// closed and the statement abandoned.
///
/// Written by hand because PostgresNIO 1.33.2 has none of it, and worse: no query timeout, a
/// task's cancellation does not stop a query in flight, no socket option (keepalive,
/// `TCP_USER_TIMEOUT`) reaches its sockets, and a statement sent on a connection that has just
/// closed is never answered at all (it is written to a channel whose handler is gone, and nothing
/// fails its promise; its own `withTransaction` does that with the ROLLBACK after a connection
/// lost mid-transaction). Without it a worker loop waited for ever after the database restarted
/// or the network was cut, and graceful shutdown waited for that loop.
///
/// A bound per statement rather than per operation: a transaction of many quick statements (a
/// batch of 100 events) is slow but alive; one statement left unanswered for `limit` is not. The
/// pool drops the closed connection and opens another once the database answers again.
struct BoundedConnection: Sendable {
    let connection: PostgresConnection
    let limit: Duration

    /// The rows of `query`; throws a `StoreError` when no answer came within `limit` or the
    /// connection is closed already.
    ///
    /// The statement runs in a task of its own, unstructured on purpose: a child task would have
    /// to be awaited, and a statement that is never answered would hold the caller with it. The
    /// caller waits on a continuation that the first of three resumes: the answer, a timer on the
    /// connection's event loop, or the caller's cancellation. Past the limit, or cancelled, the
    /// statement is abandoned and the connection closed, since nobody waits for what comes on it.
    /// (It used a task group racing a `Task.sleep`: three more tasks, a stream and a dispatch
    /// timer per statement. perf of two instances at 1 000 webhooks/s put a quarter of Herald's
    /// samples in the kernel's thread switches; this takes the timer to the event loop the answer
    /// comes on and leaves one task per statement.)
    @discardableResult
    func query(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        let connection = connection
        return try await bounded { try await connection.query(query, logger: logger).collect() }
    }

    /// The rows of a prepared statement (prepared on this connection the first time), bounded
    /// as `query` is.
    @discardableResult
    func execute<Text>(_ statement: Prepared<Text>, logger: Logger) async throws -> [PostgresRow] {
        let connection = connection
        return try await bounded {
            var rows: [PostgresRow] = []
            for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
            return rows
        }
    }

    private func bounded(_ run: @escaping @Sendable () async throws -> [PostgresRow]) async throws -> [PostgresRow] {
        let (connection, limit) = (connection, limit)
        guard !connection.isClosed else { throw StoreError("the connection to the database was lost") }
        let answer = StatementAnswer<[PostgresRow]>()
        let abandon: @Sendable () -> Void = {
            answer.statement?.cancel()
            _ = connection.close() as EventLoopFuture<Void>
        }
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation {
                    (continuation: CheckedContinuation<[PostgresRow], any Error>) in
                    guard answer.wait(continuation) else { return }
                    let timer = connection.eventLoop.scheduleTask(in: .nanoseconds(limit.nanoseconds)) {
                        if answer.finish(.failure(StoreError("no answer from the database within \(limit)"))) {
                            abandon()
                        }
                    }
                    answer.statement = Task {
                        let result: Result<[PostgresRow], any Error>
                        do {
                            result = .success(try await run())
                        } catch {
                            result = .failure(error)
                        }
                        timer.cancel()
                        answer.finish(result)
                    }
                }
            } onCancel: {
                if answer.finish(.failure(CancellationError())) { abandon() }
            }
        } catch let error as PSQLError where error.serverInfo == nil {
            // The connection failed, not the statement: said in words (PSQLError prints a
            // generic text); the server's own errors keep their SQLSTATE for the caller.
            throw StoreError("the connection to the database was lost: \(PostgresStore.reason(error))")
        }
    }
}

/// The one answer a bounded statement's caller gets: the first `finish` resumes it (or, when it
/// comes before the caller waits, is handed over by `wait`); later ones are dropped.
private final class StatementAnswer<Value: Sendable>: Sendable {
    private enum State {
        case pending
        case waiting(CheckedContinuation<Value, any Error>)
        case finishedEarly(Result<Value, any Error>)
        case done
    }

    private let state = Mutex<State>(.pending)
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// The task running the statement, cancelled when it is abandoned.
    var statement: Task<Void, Never>? {
        get { task.withLock { $0 } }
        set { task.withLock { $0 = newValue } }
    }

    /// Registers the caller; false (the caller resumed already) when the answer came first.
    func wait(_ continuation: CheckedContinuation<Value, any Error>) -> Bool {
        let early: Result<Value, any Error>? = state.withLock { state in
            guard case .finishedEarly(let result) = state else {
                state = .waiting(continuation)
                return nil
            }
            state = .done
            return result
        }
        guard let early else { return true }
        continuation.resume(with: early)
        return false
    }

    /// Delivers `result` unless an answer was delivered already; true when this one was.
    @discardableResult
    func finish(_ result: Result<Value, any Error>) -> Bool {
        let waiting: CheckedContinuation<Value, any Error>?? = state.withLock { state in
            switch state {
            case .pending:
                state = .finishedEarly(result)
                return .some(nil)
            case .waiting(let continuation):
                state = .done
                return .some(continuation)
            case .finishedEarly, .done:
                return nil
            }
        }
        guard let waiting else { return false }
        waiting?.resume(with: result)
        return true
    }
}

extension Duration {
    /// Whole nanoseconds, for NIO's `TimeAmount`.
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

extension PostgresStore {
    /// Runs `body` on a connection leased within `limit`, its statements bounded by `limit` too.
    /// The pool queues a request it cannot serve while the database is unreachable (for up to a
    /// minute before failing it): past `limit` the request is withdrawn and this throws.
    static func withConnection<T: Sendable>(
        _ client: PostgresClient, limit: Duration, _ body: @escaping @Sendable (BoundedConnection) async throws -> T
    ) async throws -> T {
        // As a statement is bounded (`BoundedConnection.query`): the lease runs in a task of its
        // own, the caller waits on a continuation the first of the answer, a timer on an event
        // loop (until the lease) and its own cancellation resumes. (It was a task group racing a
        // `Task.sleep`: two more tasks and a dispatch timer for every statement outside a
        // transaction.)
        let leased = LeaseFlag()
        let answer = StatementAnswer<T>()
        let timeout = StoreError("no connection to the database within \(limit)")
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                guard answer.wait(continuation) else { return }
                let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(
                    in: .nanoseconds(limit.nanoseconds)
                ) {
                    // Once leased, each statement bounds itself.
                    guard !leased.value.load(ordering: .acquiring) else { return }
                    if answer.finish(.failure(timeout)) { answer.statement?.cancel() }
                }
                answer.statement = Task {
                    let result: Result<T, any Error>
                    do {
                        result = .success(
                            try await client.withConnection { connection in
                                leased.value.store(true, ordering: .releasing)
                                timer.cancel()
                                return try await body(BoundedConnection(connection: connection, limit: limit))
                            })
                    } catch {
                        result = .failure(error)
                    }
                    timer.cancel()
                    answer.finish(result)
                }
            }
        } onCancel: {
            if answer.finish(.failure(CancellationError())) { answer.statement?.cancel() }
        }
    }

    /// `body` between BEGIN and COMMIT on one bounded connection, rolled back when it throws; the
    /// error `body` or COMMIT threw is rethrown as it is (a `PSQLError` keeps its SQLSTATE).
    static func transaction<T: Sendable>(
        _ client: PostgresClient, limit: Duration, logger: Logger,
        _ body: @escaping @Sendable (BoundedConnection) async throws -> T
    ) async throws -> T {
        try await withConnection(client, limit: limit) { connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                let result = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return result
            } catch {
                // After a failed COMMIT PostgreSQL has already rolled back: this one only warns.
                // On a lost connection it fails at once (the server rolls back on its own).
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// The store's own connection, bounded by `operationTimeout`.
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (BoundedConnection) async throws -> T)
        async throws -> T
    {
        try await Self.withConnection(client, limit: operationTimeout, body)
    }

    /// The same, in a transaction.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (BoundedConnection) async throws -> T)
        async throws -> T
    {
        try await Self.transaction(client, limit: operationTimeout, logger: logger, body)
    }

    /// The rows of one statement, on a bounded connection.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        let logger = logger
        return try await withConnection { try await $0.query(query, logger: logger) }
    }

    /// The rows of one prepared statement, on a bounded connection.
    func rows<Text>(_ statement: Prepared<Text>) async throws -> [PostgresRow] {
        let logger = logger
        return try await withConnection { try await $0.execute(statement, logger: logger) }
    }
}

/// Whether the pool handed over a connection before the lease's time ran out.
private final class LeaseFlag: Sendable {
    let value = Atomic<Bool>(false)
}
