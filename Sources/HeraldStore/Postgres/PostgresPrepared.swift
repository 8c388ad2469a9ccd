import Logging
import PostgresNIO

/// The SQL of a statement Herald runs on every batch, prepared once per connection.
///
/// Prepared, PostgreSQL parses and plans it once per connection and then reuses the plan; sent
/// as text, every batch paid the parse and the plan again (perf of two instances at 1 000
/// webhooks/s: the parser and planner were PostgreSQL's largest share; `EXPLAIN ANALYZE` of the
/// event claim: 0.9 ms planning for 0.14 ms executing). Columns are listed, never `*`: a prepared
/// `SELECT *` fails ("cached plan must not change result type") once a newer instance's migration
/// adds a column.
protocol PreparedSQL: Sendable {
    static var sql: String { get }
}

/// `Text`'s statement with its bindings; its rows come back as they are.
struct Prepared<Text: PreparedSQL>: PostgresPreparedStatement {
    typealias Row = PostgresRow
    static var sql: String { Text.sql }
    static var name: String { "herald_" + String(describing: Text.self) }

    var bindings: PostgresBindings

    init(_ bindings: PostgresBindings) { self.bindings = bindings }

    func makeBindings() -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
}

extension PostgresBindings {
    /// Bindings from values in order (`$1`, `$2`, …).
    static func of(_ values: any PostgresEncodable & Sendable...) throws -> PostgresBindings {
        var bindings = PostgresBindings()
        for value in values { try bindings.append(value) }
        return bindings
    }
}

/// The columns the row readers (`PostgresStore+Rows.swift`) read, for prepared statements.
enum PreparedColumns {
    static let events = """
        id, provider, dedupe_key, delivery_id, received_at, remote_address, headers, body, event, order_reference,
        status, previous_status, occurred_at, parse_error, stale, deliveries, processed_at, field_problems,
        inherited, redacted_at, undecided
        """
    static let messages = """
        id, idempotency_key, event_id, provider, order_reference, rule, channel, recipient, locale, text, encoding,
        segments, state, attempts, next_attempt_at, last_error, provider_message_id, created_at, whatsapp,
        attempted_at, sent_at, delivered_at, read_at, undelivered_at, delivery_error
        """
    static let orders = "provider, reference, status, occurred_at, event_id, remembered"
    static let suppressions = "number, channel, reason, source, created_at"

    /// `columns` each prefixed with `alias.` (a statement joining another table that has an `id`).
    static func qualified(_ columns: String, _ alias: String) -> String {
        columns.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map { "\(alias).\($0)" }
            .joined(separator: ", ")
    }
}
