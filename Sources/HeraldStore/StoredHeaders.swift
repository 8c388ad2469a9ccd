import HeraldCore

/// How an event's headers are kept in the `headers` column, by every store: a JSON array of
/// `[name, value]` pairs, in the order they arrived.
enum StoredHeaders {
    static func text(_ headers: [HeaderField]) -> String {
        JSONValue.array(headers.map { .array([.string($0.name), .string($0.value)]) }).serialized()
    }

    /// The headers of a stored column; pairs that are not two strings are left out.
    static func headers(_ text: String) -> [HeaderField] {
        guard case .array(let pairs)? = try? JSONParser.parse(Array(text.utf8)) else { return [] }
        return pairs.compactMap { pair in
            guard case .array(let parts) = pair, parts.count == 2, case .string(let name) = parts[0],
                case .string(let value) = parts[1]
            else { return nil }
            return HeaderField(name: name, value: value)
        }
    }
}
