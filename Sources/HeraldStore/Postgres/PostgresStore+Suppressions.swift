import Foundation
import Logging
import PostgresNIO

/// The suppression list. `herald forget` (which keeps opt-outs as hashes) is SQLite-only so far,
/// so every number here is stored as itself.
extension PostgresStore {
    @discardableResult
    public func addSuppression(_ entry: Suppression) async throws -> Bool {
        guard !isClosedNow else { throw StoreError.closed }
        let logger = self.logger
        return try await Self.unwrapped {
            try await client.withTransaction(logger: logger) { connection in
                try await Self.add(entry, on: connection, logger: logger)
            }
        }
    }

    @discardableResult
    public func removeSuppressions(number: String, scope: Suppression.Scope?) async throws -> [Suppression] {
        guard !isClosedNow else { throw StoreError.closed }
        let number = number.storableInPostgres
        let rows = try await client.query(
            """
            DELETE FROM suppressions
            WHERE number = \(number) AND (\(scope == nil) OR channel IS NOT DISTINCT FROM \(scope?.channel))
            RETURNING *
            """, logger: logger
        ).collect()
        let removed = try rows.map { row in
            (id: try PostgresColumns(row)("id", as: Int64.self), entry: try Self.suppression(row))
        }
        return removed.sorted { $0.id < $1.id }.map(\.entry)
    }

    public func suppressions(numbers: [String]?) async throws -> [Suppression] {
        guard !isClosedNow else { throw StoreError.closed }
        let numbers = numbers?.map(\.storableInPostgres)
        return try await client.query(
            """
            SELECT * FROM suppressions WHERE (\(numbers == nil) OR number = ANY(\(numbers ?? [])))
            ORDER BY created_at DESC, id DESC
            """, logger: logger
        ).collect().map(Self.suppression)
    }

    public func suppression(for number: String, channel: String) async throws -> Suppression? {
        guard !isClosedNow else { throw StoreError.closed }
        let (number, channel) = (number.storableInPostgres, channel.storableInPostgres)
        // The every-channel entry first: it is the one an operator lifts.
        return try await client.query(
            """
            SELECT * FROM suppressions WHERE number = \(number) AND (channel IS NULL OR channel = \(channel))
            ORDER BY channel NULLS FIRST LIMIT 1
            """, logger: logger
        ).collect().first.map(Self.suppression)
    }

    /// Adds `entry` inside a transaction (alone, or with the send outcome that revealed it).
    @discardableResult
    static func add(_ entry: Suppression, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let entry = entry.storableInPostgres
        let channel = entry.scope.channel
        let existing = try await connection.query(
            """
            SELECT * FROM suppressions WHERE number = \(entry.number) AND channel IS NOT DISTINCT FROM \(channel)
            FOR UPDATE
            """, logger: logger
        ).collect().first.map(Self.suppression)
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
        ).collect()
        return !inserted.isEmpty
    }
}
