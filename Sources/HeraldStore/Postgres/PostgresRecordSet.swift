import Foundation
import HeraldCore

/// Rows for one statement, sent as one JSON array that `json_to_recordset` turns back into a
/// table: a batch costs one statement instead of one per row (at 1 000 webhooks/s on two
/// instances, every statement is a round trip, an encode and a decode in PostgresNIO, and a parse
/// and plan in PostgreSQL). Text goes in storable already (`storableInPostgres`: no U+0000, which
/// `json_to_recordset` refuses as PostgreSQL's text does).
struct PostgresRecordSet {
    private var rows: [JSONValue] = []

    var isEmpty: Bool { rows.isEmpty }

    mutating func append(_ fields: [(key: String, value: JSONValue)]) { rows.append(.object(fields)) }

    /// The `$1::json` to bind.
    var json: String { JSONValue.array(rows).serialized() }
}

extension JSONValue {
    /// A text column's value: the string, or null.
    static func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }

    /// A number column's value, or null.
    static func real(_ value: Double?) -> JSONValue { value.map { .number("\($0)") } ?? .null }

    static func integer(_ value: Int64?) -> JSONValue { value.map { .number("\($0)") } ?? .null }
}
