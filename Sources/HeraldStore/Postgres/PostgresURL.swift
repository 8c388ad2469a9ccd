import Foundation

/// Where a PostgreSQL store lives: `postgres://user:password@host:port/database?sslmode=…`
/// (`postgresql://` too), as `--db` and `HERALD_DB` take it.
///
/// `description` masks the password (`postgres://herald:•••@db:5432/herald`): it is the only
/// form of the URL that may reach a log or an error message.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    /// libpq's `sslmode`, the values Herald supports. `prefer` and `require` encrypt without
    /// verifying the server's certificate, as libpq does; `verify-full` verifies it and its name.
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable
        case prefer
        case require
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode

    public init(
        host: String, port: Int = 5432, username: String, password: String? = nil, database: String,
        sslMode: SSLMode = .prefer
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.sslMode = sslMode
    }

    /// Whether `text` names a PostgreSQL database rather than an SQLite file.
    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Parses the URL; the error says what is wrong without repeating the password.
    public init(parsing text: String) throws {
        guard Self.isPostgres(text), let components = URLComponents(string: text) else {
            throw StoreError("not a postgres:// URL: \(Self.masked(text))")
        }
        guard let host = components.host, !host.isEmpty else {
            throw StoreError("\(Self.masked(text)): the URL names no host")
        }
        guard let username = components.user?.removingPercentEncoding, !username.isEmpty else {
            throw StoreError("\(Self.masked(text)): the URL names no user (postgres://USER:PASSWORD@HOST/DB)")
        }
        let database = String(components.path.dropFirst()).removingPercentEncoding ?? ""
        guard !database.isEmpty, !database.contains("/") else {
            throw StoreError("\(Self.masked(text)): the URL names no database (postgres://USER@HOST:5432/DB)")
        }
        var sslMode = SSLMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(SSLMode.init(rawValue:)) else {
                    let known = SSLMode.allCases.map(\.rawValue).joined(separator: ", ")
                    throw StoreError("\(Self.masked(text)): sslmode must be one of \(known)")
                }
                sslMode = mode
            default:
                throw StoreError("\(Self.masked(text)): unknown parameter '\(item.name)' (only sslmode is read)")
            }
        }
        self.init(
            host: host, port: components.port ?? 5432, username: username,
            password: components.password?.removingPercentEncoding, database: database, sslMode: sslMode)
    }

    /// The URL with the password masked.
    public var description: String {
        var text = "postgres://\(username)\(password == nil ? "" : ":•••")@\(host):\(port)/\(database)"
        if sslMode != .prefer { text += "?sslmode=\(sslMode.rawValue)" }
        return text
    }

    /// `text` with anything between `://user:` and `@` masked, for URLs that may not parse (an
    /// SQLite path comes back as it is).
    public static func masked(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text.range(of: "@", options: .backwards),
            scheme.upperBound < at.lowerBound,
            let colon = text[scheme.upperBound..<at.lowerBound].firstIndex(of: ":")
        else { return text }
        return text[..<text.index(after: colon)] + "•••" + text[at.lowerBound...]
    }
}
