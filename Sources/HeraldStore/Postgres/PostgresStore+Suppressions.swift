import Crypto
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The suppression list. `herald forget` (which keeps opt-outs as hashes) is SQLite-only so far,
/// but a database `herald copy` filled from an SQLite file may hold hashed entries and the
/// secret that made them (`settings`): every lookup matches a number's hash too, as SQLite's do.
extension PostgresStore {
    @discardableResult
    public func addSuppression(_ entry: Suppression) async throws -> Bool {
        guard !isClosedNow else { throw StoreError.closed }
        let logger = self.logger
        return try await transaction { connection in try await Self.add(entry, on: connection, logger: logger) }
    }

    @discardableResult
    public func removeSuppressions(number: String, scope: Suppression.Scope?) async throws -> [Suppression] {
        guard !isClosedNow else { throw StoreError.closed }
        let forms = try await storedForms(of: [number.storableInPostgres])
        let rows = try await rows(
            """
            DELETE FROM suppressions
            WHERE number = ANY(\(Array(forms.keys)))
                AND (\(scope == nil) OR channel IS NOT DISTINCT FROM \(scope?.channel))
            RETURNING *
            """
        )
        let removed = try rows.map { row in
            (id: try PostgresColumns(row)("id", as: Int64.self), entry: try Self.suppression(row))
        }
        return removed.sorted { $0.id < $1.id }.map { SQLiteStore.unhashed($0.entry, forms) }
    }

    public func suppressions(numbers: [String]?) async throws -> [Suppression] {
        guard !isClosedNow else { throw StoreError.closed }
        var forms: [String: String]?
        if let numbers { forms = try await storedForms(of: numbers.map(\.storableInPostgres)) }
        var bindings = PostgresBindings()
        bindings.append(forms == nil)
        bindings.append(forms.map { Array($0.keys) } ?? [])
        return try await rows(Prepared<ListSuppressions>(bindings))
            .map { SQLiteStore.unhashed(try Self.suppression($0), forms ?? [:]) }
    }

    /// Every entry (`$1`), or those of the numbers `$2` (in every stored form).
    enum ListSuppressions: PreparedSQL {
        static let sql = """
            SELECT \(PreparedColumns.suppressions) FROM suppressions WHERE ($1 OR number = ANY($2::text[]))
            ORDER BY created_at DESC, id DESC
            """
    }

    public func suppression(for number: String, channel: String) async throws -> Suppression? {
        guard !isClosedNow else { throw StoreError.closed }
        let forms = try await storedForms(of: [number.storableInPostgres])
        let channel = channel.storableInPostgres
        // The every-channel entry first: it is the one an operator lifts.
        return try await rows(
            """
            SELECT * FROM suppressions
            WHERE number = ANY(\(Array(forms.keys))) AND (channel IS NULL OR channel = \(channel))
            ORDER BY channel NULLS FIRST LIMIT 1
            """
        ).first.map { SQLiteStore.unhashed(try Self.suppression($0), forms) }
    }

    /// The forms `numbers` may be stored in, each to its number: itself, and its hash when the
    /// database has the secret of `NumberHash` (copied from an SQLite file where `herald forget` ran).
    func storedForms(of numbers: [String]) async throws -> [String: String] {
        var forms = Dictionary(numbers.map { ($0, $0) }, uniquingKeysWith: { first, _ in first })
        if let hash = try await numberHash() {
            for number in numbers { forms[hash.hash(number)] = number }
        }
        return forms
    }

    /// The `NumberHash` of the database's secret, nil without one; read at most every ten seconds
    /// (the dispatcher asks for every batch it sends, and the secret only comes with `herald copy`).
    func numberHash() async throws -> NumberHash? {
        if let cached = numberHashCache.fresh() { return cached }
        let setting = try await rows("SELECT value FROM settings WHERE name = \(NumberHash.settingName)")
        let hash = try setting.first.map { row in
            NumberHash(key: SymmetricKey(data: Data(try row.decode(ByteBuffer.self).readableBytesView)))
        }
        numberHashCache.store(hash)
        return hash
    }

    /// The same inside a transaction (an opt-in reply lifting a number's entries).
    static func storedForms(of numbers: [String], on connection: BoundedConnection, logger: Logger)
        async throws -> [String: String]
    {
        var forms = Dictionary(numbers.map { ($0, $0) }, uniquingKeysWith: { first, _ in first })
        let setting = try await connection.query(
            "SELECT value FROM settings WHERE name = \(NumberHash.settingName)", logger: logger)
        if let row = setting.first {
            let secret = try row.decode(ByteBuffer.self)
            let hash = NumberHash(key: SymmetricKey(data: Data(secret.readableBytesView)))
            for number in numbers { forms[hash.hash(number)] = number }
        }
        return forms
    }

    /// Adds `entry` inside a transaction (alone, or with the send outcome that revealed it).
    @discardableResult
    static func add(_ entry: Suppression, on connection: BoundedConnection, logger: Logger) async throws -> Bool {
        let entry = entry.storableInPostgres
        let channel = entry.scope.channel
        let existing = try await connection.query(
            """
            SELECT * FROM suppressions WHERE number = \(entry.number) AND channel IS NOT DISTINCT FROM \(channel)
            FOR UPDATE
            """, logger: logger
        ).first.map(Self.suppression)
        if let existing {
            guard entry.source == .operator, existing != entry else { return false }
            try await connection.query(
                "DELETE FROM suppressions WHERE number = \(entry.number) AND channel IS NOT DISTINCT FROM \(channel)",
                logger: logger)
        }
        // ON CONFLICT: another transaction added the same entry since the read above.
        let inserted = try await connection.query(
            """
            INSERT INTO suppressions (number, channel, reason, source, created_at)
            VALUES (\(entry.number), \(channel), \(entry.reason), \(entry.source.rawValue),
                    \(entry.createdAt.timeIntervalSince1970))
            ON CONFLICT (number, COALESCE(channel, '')) DO NOTHING
            RETURNING id
            """, logger: logger
        )
        return !inserted.isEmpty
    }
}

/// The secret's hash as last read, and when (`PostgresStore.numberHash`).
final class NumberHashCache: Sendable {
    private let state = Mutex<(hash: NumberHash?, readAt: ContinuousClock.Instant)?>(nil)
    static let lifetime: Duration = .seconds(10)

    /// The hash read less than `lifetime` ago (`.some(nil)`: no secret then); nil when stale.
    func fresh() -> NumberHash?? {
        state.withLock { state in
            guard let state, ContinuousClock.now - state.readAt < Self.lifetime else { return nil }
            return .some(state.hash)
        }
    }

    func store(_ hash: NumberHash?) { state.withLock { $0 = (hash, ContinuousClock.now) } }

    /// Read again next time (`herald copy` may have brought a secret).
    func invalidate() { state.withLock { $0 = nil } }
}
