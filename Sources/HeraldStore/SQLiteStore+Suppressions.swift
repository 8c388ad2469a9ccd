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
            let keys = try Self.storedForms(of: [number], db: db)
            var request = Suppression.filter(keys.keys.contains(Column("number")))
            if let scope { request = request.filter(Column("channel") == scope.channel) }
            let removed = try request.order(Column("id")).fetchAll(db)
            try request.deleteAll(db)
            return removed.map { Self.unhashed($0, keys) }
        }
    }

    public func suppressions(numbers: [String]?) async throws -> [Suppression] {
        guard !isClosedNow else { throw StoreError.closed }
        return try await pool.read { db in
            var request = Suppression.order(Column("created_at").desc, Column("id").desc)
            guard let numbers else { return try request.fetchAll(db) }
            let keys = try Self.storedForms(of: numbers, db: db)
            request = request.filter(keys.keys.contains(Column("number")))
            return try request.fetchAll(db).map { Self.unhashed($0, keys) }
        }
    }

    public func suppression(for number: String, channel: String) async throws -> Suppression? {
        guard !isClosedNow else { throw StoreError.closed }
        return try await pool.read { db in
            // The every-channel entry first (NULLs sort first): it is the one an operator lifts.
            let keys = try Self.storedForms(of: [number], db: db)
            return try Suppression.filter(keys.keys.contains(Column("number")))
                .filter(Column("channel") == nil || Column("channel") == channel)
                .order(Column("channel"))
                .fetchOne(db)
                .map { Self.unhashed($0, keys) }
        }
    }

    /// The forms `numbers` may be stored in, each to its number: itself, and its hash once
    /// `herald forget` has kept an opt-out as one (`NumberHash`). Every lookup of the list goes
    /// through it, so a forgotten number's opt-out still stops its messages.
    static func storedForms(of numbers: [String], db: Database) throws -> [String: String] {
        var forms = Dictionary(numbers.map { ($0, $0) }, uniquingKeysWith: { first, _ in first })
        if let hash = try NumberHash.existing(db) {
            for number in numbers { forms[hash.hash(number)] = number }
        }
        return forms
    }

    /// The entry as its number's lookup sees it: a hashed entry reads as the number looked up.
    static func unhashed(_ entry: Suppression, _ forms: [String: String]) -> Suppression {
        var entry = entry
        entry.number = forms[entry.number] ?? entry.number
        return entry
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
