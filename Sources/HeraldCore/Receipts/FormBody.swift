import Foundation

/// An `application/x-www-form-urlencoded` body as its fields, in the order they were sent.
///
/// Hand-written because Foundation's `URLComponents` does not turn `+` into a space, and Twilio's
/// form posts encode spaces in `Body` that way.
public enum FormBody {
    public struct DecodingError: Error, Equatable, Sendable {
        public var reason: String
    }

    /// The fields of `body`; a repeated name gives one field per occurrence.
    public static func decode(_ body: some Collection<UInt8>) throws(DecodingError) -> [ReceiptField] {
        var fields: [ReceiptField] = []
        for pair in body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name = try decodeComponent(parts[0])
            let value = try parts.count > 1 ? decodeComponent(parts[1]) : ""
            fields.append(ReceiptField(name, value))
        }
        return fields
    }

    /// The fields of `body` as a signature check reads them, even when it does not decode: a `%`
    /// not followed by two hex digits is kept as written, bytes that are not UTF-8 become U+FFFD.
    /// So a correctly signed body that `decode` refuses is still recognised as the provider's
    /// (and kept with its parse error) rather than refused as unsigned; a well-formed body reads
    /// the same as through `decode`.
    public static func decodeLeniently(_ body: some Collection<UInt8>) -> [ReceiptField] {
        body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            func text(_ bytes: some Collection<UInt8>) -> String {
                String(decoding: unescape(bytes, lenient: true) ?? [], as: UTF8.self)
            }
            return ReceiptField(text(parts[0]), parts.count > 1 ? text(parts[1]) : "")
        }
    }

    /// Encodes fields as a form body, for tests and fakes that play the provider.
    public static func encode(_ fields: [ReceiptField]) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<"\u{80}"))
        allowed.insert(charactersIn: "-._*")
        func component(_ text: String) -> String {
            let encoded = text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
            return encoded.replacingOccurrences(of: "%20", with: "+")
        }
        return fields.map { component($0.name) + "=" + component($0.value) }.joined(separator: "&")
    }

    private static func decodeComponent(_ bytes: some Collection<UInt8>) throws(DecodingError) -> String {
        guard let out = unescape(bytes, lenient: false) else {
            throw DecodingError(reason: "a '%' is not followed by two hex digits")
        }
        guard let text = String(validating: out, as: UTF8.self) else {
            throw DecodingError(reason: "a field is not valid UTF-8")
        }
        return text
    }

    /// `+` as a space and `%XX` as its byte; a bad escape is nil, or kept as written when `lenient`.
    private static func unescape(_ bytes: some Collection<UInt8>, lenient: Bool) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "+"):
                out.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                let high = bytes.index(after: index)
                guard high != bytes.endIndex, bytes.index(after: high) != bytes.endIndex,
                    let value = Hex.decode(
                        String(decoding: [bytes[high], bytes[bytes.index(after: high)]], as: UTF8.self))
                else {
                    guard lenient else { return nil }
                    out.append(byte)
                    break
                }
                out.append(value[0])
                index = bytes.index(after: high)
            default:
                out.append(byte)
            }
            index = bytes.index(after: index)
        }
        return out
    }
}

/// One form field of a receipt, as the provider sent it.
public struct ReceiptField: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}
