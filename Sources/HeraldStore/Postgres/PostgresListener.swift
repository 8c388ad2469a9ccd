import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Wakes this instance's loops when another instance sharing the database records events or
/// queues messages: `LISTEN herald` on one connection of the pool, for as long as `herald serve`
/// runs. The writers `NOTIFY herald` in the transaction that stores the work, so the notice is
/// sent when (and only if) it commits.
///
/// A notice is a hint. One sent while the connection was lost is gone (PostgreSQL keeps none for
/// a listener that is not there), so every (re)connection also wakes the loops, and their polling
/// remains the fallback.
final class PostgresListener: Service, Sendable {
    /// The channel every instance on one set of tables listens on (`herald`, or `herald_<schema>`
    /// for tables in a schema of their own: notices are per database); the payload is a `StoreChange`.
    let channel: String

    static func channel(schema: String?) -> String { schema.map { "herald_" + $0 } ?? "herald" }

    private let client: PostgresClient
    private let logger: Logger
    private let handlers = Mutex<[@Sendable (StoreChange) -> Void]>([])
    private let stopping = AsyncStream.makeStream(of: Void.self)
    /// Whether the last connection was lost (logged once per loss).
    private let lost = Atomic<Bool>(false)

    init(client: PostgresClient, channel: String, logger: Logger) {
        self.client = client
        self.channel = channel
        self.logger = logger
    }

    func observe(_ handler: @escaping @Sendable (StoreChange) -> Void) {
        handlers.withLock { $0.append(handler) }
    }

    /// The store closes: the listener ends and gives its connection back (the pool cannot shut
    /// down while a connection is out).
    func stop() {
        stopping.continuation.finish()
    }

    private func deliver(_ change: StoreChange) {
        for handler in handlers.withLock({ $0 }) { handler(change) }
    }

    /// Listens until graceful shutdown, or until the store closes (`stop()`), whichever comes first.
    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { for await _ in self.stopping.stream {} }
            group.addTask { await self.listen() }
            await group.next()
            group.cancelAll()
        }
        // The store closes before the group shuts its services down: a service must not end first.
        try? await gracefulShutdown()
    }

    /// One connection listening at a time; a lost one is replaced, 1 s later doubling to 30 s.
    private func listen() async {
        var delay = Duration.seconds(1)
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let connected = Atomic<Bool>(false)
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: channel) { notifications in
                        connected.store(true, ordering: .relaxed)
                        if self.lost.exchange(false, ordering: .relaxed) {
                            self.logger.info("listening to other instances again")
                        }
                        // Whatever was notified while nobody listened is found now.
                        self.deliver(.eventsRecorded)
                        self.deliver(.messagesQueued)
                        for try await notification in notifications.cancelOnGracefulShutdown() {
                            if let change = StoreChange(rawValue: notification.payload) { self.deliver(change) }
                        }
                    }
                }
                return  // graceful shutdown or the store closing ended the sequence
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                if connected.load(ordering: .relaxed) { delay = .seconds(1) }
                if !lost.exchange(true, ordering: .relaxed) {
                    logger.warning(
                        "not hearing other instances; polling until the database answers again",
                        metadata: ["herald.reason": "\(PostgresStore.reason(error))"])
                }
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(30))
        }
    }
}

extension PostgresStore {
    /// Tells every listening instance of `change` when the transaction on `connection` commits.
    static func notify(_ change: StoreChange, channel: String, on connection: BoundedConnection, logger: Logger)
        async throws
    {
        try await connection.query("SELECT pg_notify(\(channel), \(change.rawValue))", logger: logger)
    }
}
