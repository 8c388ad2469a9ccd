import Foundation
import GRDB
import HeraldCore
import ServiceLifecycle
import Synchronization

/// The embedded store: one SQLite file in WAL mode with `synchronous=FULL`, so a commit is on
/// disk when it returns.
///
/// Writes from concurrent requests are grouped: while one transaction is committing, new events
/// queue up and go into the next one together, so throughput is not capped at one fsync per
/// request while every acknowledged event is still durable. The grouping and the WAL checkpoints
/// are `services`, run by `herald serve`'s service group; without them each write commits alone.
public final class SQLiteStore: Store {
    public let path: String
    let pool: DatabasePool
    let committer: GroupCommitter<IncomingEvent, RecordOutcome>
    private let isClosed = Atomic<Bool>(false)
    private let transactions = Counter()
    private let checkpointer: Checkpointer

    /// The group committer's writer and the checkpointer, for `herald serve`'s service group.
    public var services: [any Service] { [checkpointer, committer] }

    /// One process uses the file: nobody else records events or queues messages in it.
    public func observeChanges(_ handler: @escaping @Sendable (StoreChange) -> Void) {}

    /// One process: it paces in memory.
    public func sharedPacer(limits: [String: PacingLimits]) -> (any SendPacing)? { nil }

    /// Whether `close()` was called: every query then throws `StoreError.closed`.
    var isClosedNow: Bool { isClosed.load(ordering: .acquiring) }

    /// Write transactions committed since opening; with group commit, fewer than events recorded.
    public var transactionCount: Int { transactions.value.load(ordering: .relaxed) }

    /// Opens (creating if needed) the database at `path` and migrates it.
    public init(path: String) throws {
        self.path = path
        if let problem = Self.directoryProblem(path: path) { throw StoreError(problem) }
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let pool = try DatabasePool(path: path, configuration: configuration)
        // Set on the single writer connection once WAL is on (switching to WAL would reset it):
        // with FULL, every commit is fsynced before the write returns.
        // No checkpoint inside a commit: the writer would stall every request queued behind it
        // while the WAL is copied and the database file synced. The checkpointer does it aside.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
        }
        try Self.migrator.migrate(pool)
        self.pool = pool
        self.checkpointer = Checkpointer(path: path)
        let transactions = self.transactions
        self.committer = GroupCommitter { batch in
            let outcomes = try await pool.write { db in try batch.map { try Self.insert($0, db: db) } }
            transactions.value.add(1, ordering: .relaxed)
            return outcomes
        }
    }

    /// What is wrong with `path` when it is a directory (a common slip for `--db`), else nil.
    static func directoryProblem(path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return nil
        }
        let example = URL(fileURLWithPath: path).appendingPathComponent("herald.sqlite").path
        return "it is a directory, not an SQLite file (give the file's path, e.g. \(example))"
    }

    public func ping() async throws {
        guard !isClosed.load(ordering: .acquiring) else { throw StoreError.closed }
        _ = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    public func close() async throws {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        await committer.drain()
        try pool.close()
    }

    /// Opens an existing database without creating or migrating anything; for read-only tools.
    public static func openExisting(path: String) throws -> SQLiteStore {
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError("no store at \(path)") }
        return try SQLiteStore(path: path)
    }

    /// The value of a PRAGMA on the writer connection, for checks of durability settings.
    func pragma(_ name: String) async throws -> String? {
        try await pool.write { db in try String.fetchOne(db, sql: "PRAGMA \(name)") }
    }
}

/// A shared atomic count.
final class Counter: Sendable {
    let value = Atomic<Int>(0)
}
