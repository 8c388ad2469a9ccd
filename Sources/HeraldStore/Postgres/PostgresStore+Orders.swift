import HeraldCore
import PostgresNIO

/// The order state `record` keeps (what `OrderDecision` decided).
extension PostgresStore {
    public func orderState(provider: String, reference: String) async throws -> OrderState? {
        guard !isClosedNow else { throw StoreError.closed }
        return try await rows("SELECT * FROM orders WHERE provider = \(provider) AND reference = \(reference)")
            .first.map(Self.orderState)
    }

    /// Every order's last known status (for `herald dry-run --db`).
    public func orderStates() async throws -> [OrderState] {
        guard !isClosedNow else { throw StoreError.closed }
        return try await rows("SELECT * FROM orders ORDER BY provider, reference").map(Self.orderState)
    }
}
