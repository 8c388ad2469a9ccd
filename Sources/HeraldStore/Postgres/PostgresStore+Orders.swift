import HeraldCore
import PostgresNIO

/// The order state `record` keeps (what `OrderDecision` decided).
extension PostgresStore {
    public func orderState(provider: String, reference: String) async throws -> OrderState? {
        guard !isClosedNow else { throw StoreError.closed }
        return try await client.query(
            "SELECT * FROM orders WHERE provider = \(provider) AND reference = \(reference)", logger: logger
        ).collect().first.map(Self.orderState)
    }

    /// Every order's last known status (for `herald dry-run --db`).
    public func orderStates() async throws -> [OrderState] {
        guard !isClosedNow else { throw StoreError.closed }
        return try await client.query("SELECT * FROM orders ORDER BY provider, reference", logger: logger)
            .collect().map(Self.orderState)
    }
}
