import Foundation
import HeraldStore

/// The stores tests run against (`@Test(arguments: StoreKind.allCases)`), each fresh and empty:
/// SQLite on a temporary file, its in-memory twin, and PostgreSQL in a schema of its own. A new
/// backend is one more case (and the line that opens it).
public enum StoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case memory
    case postgres

    /// Every kind; PostgreSQL is left out only on the developer's explicit word
    /// (`HERALD_SKIP_POSTGRES=1`, never heeded in CI: see `PostgresTestDatabase`).
    public static var allCases: [StoreKind] {
        PostgresTestDatabase.skipped ? [.sqlite, .memory] : [.sqlite, .memory, .postgres]
    }

    public func open() async throws -> any Store {
        switch self {
        case .sqlite: try SQLiteStore(path: Fixtures.temporaryDatabasePath())
        case .memory: InMemoryStore()
        case .postgres: try await PostgresTestDatabase.open()
        }
    }

    public var description: String { rawValue }
}
