import HeraldCore
import PostgresNIO

/// The order state the processor keeps (what `OrderDecision` decided).
extension PostgresStore {
    public func orderState(provider: String, reference: String) async throws -> OrderState? {
        guard !isClosedNow else { throw StoreError.closed }
        return try await rows("SELECT * FROM orders WHERE provider = \(provider) AND reference = \(reference)")
            .first.map(Self.orderState)
    }

    public func orderStates(of keys: Set<OrderKey>) async throws -> [OrderKey: OrderState] {
        guard !isClosedNow else { throw StoreError.closed }
        guard !keys.isEmpty else { return [:] }
        // Keyed as stored (a NUL in a reference is kept as U+FFFD), answered under the keys asked.
        let asked = Dictionary(
            keys.map { key in
                (OrderKey(provider: key.provider.storableInPostgres, reference: key.reference.storableInPostgres), key)
            }
        ) { a, _ in a }
        let providers = asked.keys.map(\.provider)
        let references = asked.keys.map(\.reference)
        var bindings = PostgresBindings()
        bindings.append(providers)
        bindings.append(references)
        let states = try await rows(Prepared<OrderStatesOf>(bindings)).map(Self.orderState)
        var found: [OrderKey: OrderState] = [:]
        for state in states {
            if let key = asked[OrderKey(provider: state.provider, reference: state.reference)] { found[key] = state }
        }
        return found
    }

    enum OrderStatesOf: PreparedSQL {
        static let sql = """
            SELECT \(PreparedColumns.qualified(PreparedColumns.orders, "o")) FROM orders AS o
            JOIN unnest($1::text[], $2::text[]) AS k (provider, reference)
                ON o.provider = k.provider AND o.reference = k.reference
            """
    }

    /// Every order's last known status (for `herald dry-run --db`).
    public func orderStates() async throws -> [OrderState] {
        guard !isClosedNow else { throw StoreError.closed }
        return try await rows("SELECT * FROM orders ORDER BY provider, reference").map(Self.orderState)
    }
}
