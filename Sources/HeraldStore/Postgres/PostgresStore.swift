import Foundation
import HeraldCore
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The shared store: a PostgreSQL database reached through a PostgresNIO connection pool, with
/// the same tables and UNIQUE keys as `SQLiteStore`. A commit is durable when it returns.
///
/// Intake's writes are grouped as SQLite's are (`GroupCommitter`, one of `services`): events that
/// arrive while a transaction commits share the next one, so throughput is not one commit per
/// webhook; up to four such transactions run at once, on their own connections.
///
/// The store owns its pool's `run()`: `connect` starts it in a task the store keeps and `close()`
/// ends it. Running the pool as a service of `herald serve`'s group instead would stop it on
/// graceful shutdown before the store's own last writes (the group committer drains into it on
/// `close()`, after the group ends), and every CLI command and test would need a service group
/// just to read a table. One owned task, cancelled and awaited by `close()`, serves them all.
public final class PostgresStore: Store {
    /// How the store connects; the defaults suit `herald serve`.
    public struct Options: Sendable {
        /// The most connections the pool opens.
        public var maximumConnections = 20
        /// How long `connect` waits for the database (a connection, then each answer while it
        /// migrates) before giving up.
        public var startupTimeout: Duration = .seconds(15)
        /// A schema to work in instead of `public` (tests give each store its own).
        public var schema: String?
        /// How long any call waits for a connection, and then for each statement's answer,
        /// before it fails (`BoundedConnection`): intake answers 503, the work loops try again.
        public var operationTimeout: Duration = .seconds(5)

        public init() {}
    }

    /// The database, its password masked when printed.
    public let url: PostgresURL
    let client: PostgresClient
    let logger: Logger
    let committer: GroupCommitter<IncomingEvent, RecordOutcome>
    private let pool: Task<Void, Never>
    private let isClosed = Atomic<Bool>(false)
    private let transactions = Counter()

    /// The group committer's writer and the listener for other instances' changes, for `herald
    /// serve`'s service group.
    public var services: [any Service] { [committer, listener] }

    /// Hears other instances' changes (`LISTEN herald`) while `herald serve` runs.
    let listener: PostgresListener
    /// The channel of those notices.
    var channel: String { listener.channel }

    public func observeChanges(_ handler: @escaping @Sendable (StoreChange) -> Void) {
        listener.observe(handler)
    }

    /// Whether `close()` was called: every query then throws `StoreError.closed`.
    var isClosedNow: Bool { isClosed.load(ordering: .acquiring) }

    /// Write transactions of `record` committed since connecting; with group commit, fewer than events.
    public var transactionCount: Int { transactions.value.load(ordering: .relaxed) }

    /// How long a call waits for a connection and for each answer (`Options.operationTimeout`).
    let operationTimeout: Duration
    /// Who this store is among the instances sharing the database (its claims on events say so).
    let instanceID = UUID().uuidString
    /// The secret's hash for suppression lookups, read at most every ten seconds.
    let numberHashCache = NumberHashCache()

    private init(
        url: PostgresURL, client: PostgresClient, logger: Logger, concurrentBatches: Int, operationTimeout: Duration,
        channel: String
    ) {
        self.url = url
        self.operationTimeout = operationTimeout
        self.client = client
        self.logger = logger
        self.pool = Task { await client.run() }
        self.listener = PostgresListener(client: client, channel: channel, logger: logger)
        let transactions = self.transactions
        self.committer = GroupCommitter(concurrentBatches: concurrentBatches) { received in
            let batch = received.map(\.storableInPostgres)
            // Two batches redelivering the same events in crossed order can deadlock (PostgreSQL
            // aborts one): that one is written again, once, before its callers hear of it.
            for attempt in 1...2 {
                do {
                    // Past the timeout the callers hear of a failure (intake answers 503, the sender
                    // retries); a commit that happened all the same makes the retry a duplicate.
                    // One statement, atomic on its own: no BEGIN and COMMIT round trips.
                    let outcomes = try await Self.withConnection(client, limit: operationTimeout) { connection in
                        try await Self.insert(batch, channel: channel, on: connection, logger: logger)
                    }
                    transactions.value.add(1, ordering: .relaxed)
                    return outcomes
                } catch let error as PSQLError where attempt == 1 && Self.mayRetry(error) {
                    logger.warning("transaction retried", metadata: ["herald.reason": "\(Self.reason(error))"])
                }
            }
            throw StoreError("unreachable")
        }
    }

    /// A deadlock or a serialization failure: nothing was written, the transaction may run again.
    static func mayRetry(_ error: PSQLError) -> Bool {
        ["40P01", "40001"].contains(error.serverInfo?[.sqlState] ?? "")
    }

    /// Connects to the database at `url`, creating or migrating its tables (under an advisory
    /// lock, so instances starting together migrate once). Throws a `StoreError` naming the URL,
    /// its password masked, and the reason when the database refuses (at once) or does not answer
    /// (within `startupTimeout`).
    public static func connect(_ url: PostgresURL, logger: Logger, options: Options = Options()) async throws
        -> PostgresStore
    {
        // PostgresNIO logs query details at debug and rows at trace (customers' numbers): never below info.
        var capped = logger
        capped.logLevel = max(logger.logLevel, .info)
        let logger = capped
        do {
            try await probe(url, logger: logger)
        } catch {
            throw StoreError("cannot use the database \(url): \(Self.reason(error))")
        }
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.username, password: url.password, database: url.database,
            tls: url.sslMode.tls)
        configuration.options.maximumConnections = options.maximumConnections
        var parameters = [("application_name", "herald")]
        if let schema = options.schema { parameters.append(("search_path", schema)) }
        configuration.options.additionalStartupParameters = parameters
        var poolLogger = logger
        poolLogger[metadataKey: "herald.db"] = "\(url)"
        let client = PostgresClient(configuration: configuration, backgroundLogger: poolLogger)
        // A few batches at once, each on its own connection, leaving the rest of the pool to the others.
        let store = PostgresStore(
            url: url, client: client, logger: logger,
            concurrentBatches: min(4, max(1, options.maximumConnections / 2)),
            operationTimeout: options.operationTimeout, channel: PostgresListener.channel(schema: options.schema))
        do {
            try await Self.migrate(client, schema: options.schema, limit: options.startupTimeout, logger: logger)
        } catch {
            try? await store.close()
            throw StoreError("cannot use the database \(url): \(Self.reason(error))")
        }
        return store
    }

    public func ping() async throws {
        guard !isClosedNow else { throw StoreError.closed }
        do {
            _ = try await rows("SELECT 1")
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("the database does not answer: \(Self.reason(error))")
        }
    }

    public func close() async throws {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        await committer.drain()
        listener.stop()
        pool.cancel()
        await pool.value
    }

    /// Runs `body` with the error a transaction wraps (`PostgresTransactionError`) unwrapped.
    static func unwrapped<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.commitError ?? error.beginError ?? error
        }
    }

    /// What went wrong, in words that carry no row values and no password.
    static func reason(_ error: any Error) -> String {
        if let error = error as? PostgresTransactionError {
            let cause = error.closureError ?? error.commitError ?? error.beginError
            return reason(cause ?? StoreError("transaction failed"))
        }
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] {
                return "\(message) (SQLSTATE \(error.serverInfo?[.sqlState] ?? "?"))"
            }
            return "\(error.code)\(error.underlying.map { ": \($0)" } ?? "")"
        }
        return "\(error)"
    }
}

extension PostgresURL.SSLMode {
    /// libpq's meaning: `prefer` and `require` encrypt without verifying, `verify-full` verifies.
    var tls: PostgresClient.Configuration.TLS {
        var unverified = TLSConfiguration.makeClientConfiguration()
        unverified.certificateVerification = .none
        switch self {
        case .disable: return .disable
        case .prefer: return .prefer(unverified)
        case .require: return .require(unverified)
        case .verifyFull: return .require(.makeClientConfiguration())
        }
    }
}
