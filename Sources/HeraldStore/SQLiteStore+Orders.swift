import GRDB
import HeraldCore

/// The order state the processor keeps (what `OrderDecision` decided).
extension SQLiteStore {
    public func orderState(provider: String, reference: String) async throws -> OrderState? {
        guard !isClosedNow else { throw StoreError.closed }
        return try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM orders WHERE provider = ? AND reference = ?", arguments: [provider, reference]
            ).map(Self.orderState)
        }
    }

    public func orderStates(of keys: Set<OrderKey>) async throws -> [OrderKey: OrderState] {
        guard !isClosedNow else { throw StoreError.closed }
        guard !keys.isEmpty else { return [:] }
        return try await pool.read { db in
            var states: [OrderKey: OrderState] = [:]
            let statement = try db.cachedStatement(sql: "SELECT * FROM orders WHERE provider = ? AND reference = ?")
            for key in keys {
                if let row = try Row.fetchOne(statement, arguments: [key.provider, key.reference]) {
                    states[key] = Self.orderState(row)
                }
            }
            return states
        }
    }

    /// Every order's last known status (for `herald dry-run --db`).
    public func orderStates() async throws -> [OrderState] {
        guard !isClosedNow else { throw StoreError.closed }
        return try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM orders ORDER BY provider, reference").map(Self.orderState)
        }
    }
}
