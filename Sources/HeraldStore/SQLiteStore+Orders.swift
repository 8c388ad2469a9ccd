import GRDB
import HeraldCore

/// The order state `record` keeps (what `OrderDecision` decided).
extension SQLiteStore {
    public func orderState(provider: String, reference: String) async throws -> OrderState? {
        guard !isClosedNow else { throw StoreError.closed }
        return try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM orders WHERE provider = ? AND reference = ?", arguments: [provider, reference]
            ).map(Self.orderState)
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
