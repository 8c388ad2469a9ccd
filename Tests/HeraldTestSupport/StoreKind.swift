import Foundation
import HeraldStore

/// The stores tests run against (`@Test(arguments: StoreKind.allCases)`), each fresh and empty:
/// SQLite on a temporary file and its in-memory twin. A new backend is one more case (and the
/// line that opens it).
public enum StoreKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case memory

    public func open() throws -> any Store {
        switch self {
        case .sqlite: try SQLiteStore(path: Fixtures.temporaryDatabasePath())
        case .memory: InMemoryStore()
        }
    }

    public var description: String { rawValue }
}
