import Foundation
import GRDB

extension SQLiteStore {
    @discardableResult
    public func addSuppression(_ entry: Suppression) async throws -> Bool {
        guard !isClosedNow else { throw StoreError.closed }
        return try await pool.write { db in try Self.add(entry, db: db) }
    }

    @discardableResult
    public func removeSuppressions(number: String, scope: Suppression.Scope?) async throws -> [Suppression] {
        guard !isClosedNow else { throw StoreError.closed }
        return try await pool.write { db in
            var request = Suppression.filter(Column("number") == number)
            if let scope { request = request.filter(Column("channel") == scope.channel) }
            let removed = try request.order(Column("id")).fetchAll(db)
            try request.deleteAll(db)
            return removed
        }
    }

    public func suppressions(numbers: [String]?) async throws -> [Suppression] {
        guard !isClosedNow else { throw StoreError.closed }
        return try await pool.read { db in
            var request = Suppression.order(Column("created_at").desc, Column("id").desc)
            if let numbers { request = request.filter(numbers.contains(Column("number"))) }
            return try request.fetchAll(db)
        }
    }

    public func suppression(for number: String, channel: String) async throws -> Suppression? {
        guard !isClosedNow else { throw StoreError.closed }
        return try await pool.read { db in
            // The every-channel entry first (NULLs sort first): it is the one an operator lifts.
            try Suppression.filter(Column("number") == number)
                .filter(Column("channel") == nil || Column("channel") == channel)
                .order(Column("channel"))
                .fetchOne(db)
        }
    }

    /// Adds `entry` inside a write transaction (alone, or with the send outcome that revealed it).
    @discardableResult
    static func add(_ entry: Suppression, db: Database) throws -> Bool {
        let same = Suppression.filter(Column("number") == entry.number).filter(Column("channel") == entry.scope.channel)
        guard let existing = try same.fetchOne(db) else {
            try entry.insert(db)
            return true
        }
        guard entry.source == .operator, existing != entry else { return false }
        try same.deleteAll(db)
        try entry.insert(db)
        return true
    }
}
