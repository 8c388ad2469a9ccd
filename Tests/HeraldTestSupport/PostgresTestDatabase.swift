import Foundation
import HeraldStore
import Logging

/// The PostgreSQL server the tests use: `HERALD_TEST_POSTGRES_URL`, which `.ci/run` sets (and
/// `source .ci/postgres start` sets locally) to a throw-away cluster.
///
/// Without it the PostgreSQL cases fail with a message saying how to start one; they never skip
/// silently. A developer without PostgreSQL may leave them out with `HERALD_SKIP_POSTGRES=1`,
/// which CI (`CI=true`) ignores.
public enum PostgresTestDatabase {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// Whether the developer asked to leave PostgreSQL out (never in CI).
    public static var skipped: Bool {
        environment["HERALD_SKIP_POSTGRES"] == "1" && environment["CI"] != "true" && url == nil
    }

    /// The server's URL, nil when unset.
    public static var url: String? {
        environment["HERALD_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The server's URL, or an error saying how to get one.
    public static func requiredURL() throws -> PostgresURL {
        guard let url else {
            throw StoreError(
                "HERALD_TEST_POSTGRES_URL is not set: run `source .ci/postgres start` first "
                    + "(or set HERALD_SKIP_POSTGRES=1 to leave PostgreSQL out, outside CI)")
        }
        return try PostgresURL(parsing: url)
    }

    /// A fresh schema name, for a store of its own (or shared by several stores of one test).
    public static func freshSchema() -> String {
        "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }

    /// A store in `schema` (a fresh one by default), migrated; a small pool, as many tests run at once.
    public static func open(schema: String = freshSchema(), maximumConnections: Int = 4) async throws
        -> PostgresStore
    {
        var options = PostgresStore.Options()
        options.schema = schema
        options.maximumConnections = maximumConnections
        options.startupTimeout = .seconds(60)
        var logger = Logger(label: "herald.test.postgres")
        logger.logLevel = .warning
        // The throw-away cluster speaks no TLS: no TLS context (and its trust store) to build per store.
        var url = try requiredURL()
        url.sslMode = .disable
        return try await PostgresStore.connect(url, logger: logger, options: options)
    }
}
