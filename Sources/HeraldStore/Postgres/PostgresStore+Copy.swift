import Foundation
import GRDB
import Logging
import PostgresNIO

/// What `herald copy` copied, table by table.
public struct CopySummary: Sendable, Equatable {
    public var events = 0
    public var orders = 0
    public var messages = 0
    public var suppressions = 0
    public var settings = 0
    public var prunedKeys = 0
    public var receipts = 0

    public init() {}

    mutating func add(_ count: Int, of table: String) {
        switch table {
        case "events": events += count
        case "orders": orders += count
        case "messages": messages += count
        case "suppressions": suppressions += count
        case "settings": settings += count
        case "receipts": receipts += count
        default: prunedKeys += count
        }
    }
}

/// `herald copy`: every row of an SQLite store into an empty PostgreSQL one, ids and all, in one
/// transaction (all or nothing).
///
/// Nothing is re-sent and no opt-out is lost because everything that guards them comes along:
/// events with their dedupe keys (a redelivery is a duplicate), messages with their idempotency
/// keys, states, leases and attempts (a `sending` message keeps its lease and is recovered as
/// `unknown` once it expires, as on SQLite), the idempotency keys of pruned messages, the
/// suppressions (hashed ones included) and the secret that hashes forgotten numbers.
///
/// The SQLite file is read a page at a time: `herald serve` must be stopped meanwhile (the copy
/// is a snapshot of a file nobody writes).
extension PostgresStore {
    /// A column as SQLite stores it and PostgreSQL takes it.
    enum CopiedKind: Sendable { case text, real, int4, int8, bool, bytes }

    /// A table to copy: its columns in order, the column it is paged by, whether its ids are identities.
    struct CopiedTable: Sendable {
        var name: String
        var pageKey: String
        var identity: Bool
        var columns: [(name: String, kind: CopiedKind)]
    }

    /// Every table, parents before children; columns as of SQLite's v13 and PostgreSQL's v6.
    static let copiedTables: [CopiedTable] = [
        CopiedTable(
            name: "events", pageKey: "id", identity: true,
            columns: [
                ("id", .int8), ("provider", .text), ("dedupe_key", .text), ("delivery_id", .text),
                ("received_at", .real), ("remote_address", .text), ("headers", .text), ("body", .bytes),
                ("event", .text), ("order_reference", .text), ("status", .text), ("previous_status", .text),
                ("occurred_at", .real), ("parse_error", .text), ("stale", .bool), ("deliveries", .int4),
                ("processed_at", .real), ("field_problems", .text), ("inherited", .text), ("redacted_at", .real),
                ("undecided", .bool),
            ]),
        CopiedTable(
            name: "orders", pageKey: "rowid", identity: false,
            columns: [
                ("provider", .text), ("reference", .text), ("status", .text), ("occurred_at", .real),
                ("event_id", .int8), ("updated_at", .real), ("remembered", .text),
            ]),
        CopiedTable(
            name: "messages", pageKey: "id", identity: true,
            columns: [
                ("id", .int8), ("idempotency_key", .text), ("event_id", .int8), ("provider", .text),
                ("order_reference", .text), ("rule", .text), ("channel", .text), ("recipient", .text),
                ("locale", .text), ("text", .text), ("encoding", .text), ("segments", .int4), ("state", .text),
                ("attempts", .int4), ("next_attempt_at", .real), ("lease_expires_at", .real), ("last_error", .text),
                ("provider_message_id", .text), ("created_at", .real), ("sent_at", .real), ("whatsapp", .text),
                ("attempted_at", .real), ("delivered_at", .real), ("read_at", .real), ("undelivered_at", .real),
                ("delivery_error", .text),
            ]),
        CopiedTable(
            name: "suppressions", pageKey: "id", identity: true,
            columns: [
                ("id", .int8), ("number", .text), ("channel", .text), ("reason", .text), ("source", .text),
                ("created_at", .real),
            ]),
        CopiedTable(
            name: "settings", pageKey: "name", identity: false, columns: [("name", .text), ("value", .bytes)]),
        CopiedTable(
            name: "pruned_keys", pageKey: "idempotency_key", identity: false,
            columns: [("idempotency_key", .text)]),
        CopiedTable(
            name: "receipts", pageKey: "id", identity: true,
            columns: [
                ("id", .int8), ("channel", .text), ("dedupe_key", .text), ("kind", .text),
                ("provider_message_id", .text), ("provider_status", .text), ("idempotency_key", .text),
                ("error_code", .text), ("sender", .text), ("body", .text), ("raw", .bytes), ("parse_error", .text),
                ("occurred_at", .real), ("received_at", .real), ("message_id", .int8), ("opt_action", .text),
                ("opt_scope", .text),
            ]),
    ]

    /// Copies every row of the SQLite store at `path` (opened read-only) into this database, which
    /// must hold no events, messages, suppressions, settings or pruned keys. Throws a `StoreError`
    /// (and copies nothing) when the file is missing or not a current Herald store, or the
    /// database is not empty.
    public func copy(fromSQLiteAt path: String, pageSize: Int = 1000) async throws -> CopySummary {
        guard !isClosedNow else { throw StoreError.closed }
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError("\(path): no such file") }
        var configuration = Configuration()
        configuration.readonly = true
        let source: DatabaseQueue
        do {
            source = try DatabaseQueue(path: path, configuration: configuration)
            let current = try await source.read { db in try SQLiteStore.migrator.hasCompletedMigrations(db) }
            guard current else {
                throw StoreError(
                    "\(path): its schema is older than this herald's; open it once with this version "
                        + "(herald events --db \(path)) and copy again")
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("\(path): not a Herald SQLite store (\(error))")
        }
        let logger = self.logger
        defer { numberHashCache.invalidate() }  // the settings may bring the secret of forgotten numbers
        return try await Self.unwrapped {
            try await client.withTransaction(logger: logger) { connection in
                let tables = Self.copiedTables.map(\.name).joined(separator: ", ")
                try await connection.query("LOCK TABLE \(unescaped: tables) IN EXCLUSIVE MODE", logger: logger)
                try await Self.requireEmpty(connection, logger: logger)
                var summary = CopySummary()
                for table in Self.copiedTables {
                    let count = try await Self.copy(
                        table, from: source, to: connection, pageSize: pageSize, logger: logger)
                    summary.add(count, of: table.name)
                }
                // New rows get ids above the copied ones.
                for table in Self.copiedTables where table.identity {
                    let sequence = "pg_get_serial_sequence('\(table.name)', 'id')"
                    try await connection.query(
                        "SELECT setval(\(unescaped: sequence), max(id)) FROM \(unescaped: table.name)", logger: logger)
                }
                return summary
            }
        }
    }

    /// Throws unless every table is empty: merging two histories could duplicate what was sent.
    static func requireEmpty(_ connection: PostgresConnection, logger: Logger) async throws {
        var held: [String] = []
        let named = ["events": "event", "messages": "message", "suppressions": "suppression"]
        // Orders are left out: each refers to an event.
        for table in copiedTables where table.name != "orders" {
            let rows = try await connection.query(
                "SELECT count(*) FROM \(unescaped: table.name)", logger: logger
            ).collect()
            let count = try rows.first?.decode(Int64.self) ?? 0
            guard count > 0 else { continue }
            let plural = count == 1 ? "" : "s"
            let noun = named[table.name].map { $0 + plural } ?? table.name.replacingOccurrences(of: "_", with: " ")
            held.append("\(count) \(noun)")
        }
        guard held.isEmpty else {
            throw StoreError(
                "the target database is not empty (\(held.joined(separator: ", "))); copy into an empty database")
        }
    }

    /// Copies one table a page at a time (one multi-row INSERT per page); returns its row count.
    static func copy(
        _ table: CopiedTable, from source: DatabaseQueue, to connection: PostgresConnection, pageSize: Int,
        logger: Logger
    ) async throws -> Int {
        // PostgreSQL takes at most 65535 parameters per query.
        let pageSize = max(1, min(pageSize, 65_535 / table.columns.count))
        let names = table.columns.map(\.name).joined(separator: ", ")
        var after: DatabaseValue = .null
        var copied = 0
        while true {
            let (from, columns) = (after, table.columns)
            // Each row as its page key, then its columns' values in order.
            let rows = try await source.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(table.pageKey) AS copy_page_key, \(names) FROM \(table.name)
                        WHERE ? IS NULL OR \(table.pageKey) > ? ORDER BY \(table.pageKey) LIMIT ?
                        """, arguments: [from, from, pageSize]
                ).map { row in [row["copy_page_key"] as DatabaseValue] + columns.map { row[$0.name] as DatabaseValue } }
            }
            guard let last = rows.last else { return copied }
            after = last[0]
            var bindings = PostgresBindings(capacity: rows.count * table.columns.count)
            var tuples: [String] = []
            var parameter = 0
            for row in rows {
                var placeholders: [String] = []
                for (column, value) in zip(table.columns, row.dropFirst()) {
                    try bind(value, as: column.kind, to: &bindings, table: table.name, column: column.name)
                    parameter += 1
                    placeholders.append("$\(parameter)")
                }
                tuples.append("(" + placeholders.joined(separator: ", ") + ")")
            }
            let overriding = table.identity ? " OVERRIDING SYSTEM VALUE" : ""
            let sql = "INSERT INTO \(table.name) (\(names))\(overriding) VALUES " + tuples.joined(separator: ", ")
            try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
            copied += rows.count
        }
    }

    /// Binds one SQLite value as its PostgreSQL type; the error names the table and column, never the value.
    static func bind(
        _ value: DatabaseValue, as kind: CopiedKind, to bindings: inout PostgresBindings, table: String,
        column: String
    ) throws {
        func converted<T: DatabaseValueConvertible>(_ type: T.Type) throws -> T? {
            if value.isNull { return nil }
            guard let converted = T.fromDatabaseValue(value) else {
                throw StoreError("\(table).\(column): a value of an unexpected type")
            }
            return converted
        }
        switch kind {
        case .text: bindings.append(try converted(String.self)?.storableInPostgres)
        case .real: bindings.append(try converted(Double.self))
        case .int4: bindings.append(try converted(Int64.self).map { Int32(clamping: $0) })
        case .int8: bindings.append(try converted(Int64.self))
        case .bool: bindings.append(try converted(Bool.self))
        case .bytes: bindings.append(try converted(Data.self).map { ByteBuffer(bytes: $0) })
        }
    }
}
