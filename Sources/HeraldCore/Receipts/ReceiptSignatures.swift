import Crypto
import Foundation

/// Twilio's `X-Twilio-Signature`: base64 of HMAC-SHA1 keyed with the auth token over the URL
/// Twilio called (with its query) followed by each POST field name and value, sorted by name.
public enum TwilioSignature {
    public static let header = "X-Twilio-Signature"

    /// The signature Twilio sends for a form post of `fields` to `url`.
    public static func compute(url: String, fields: [ReceiptField], authToken: String) -> String {
        var signed = Array(url.utf8)
        // Sorted by name, then value for a repeated name, as Twilio's helper libraries do; UTF-8
        // byte order is code point order, the order Twilio's libraries compare in.
        let sorted = fields.sorted { a, b in
            if a.name != b.name { return Array(a.name.utf8).lexicographicallyPrecedes(Array(b.name.utf8)) }
            return Array(a.value.utf8).lexicographicallyPrecedes(Array(b.value.utf8))
        }
        for field in sorted {
            signed += Array(field.name.utf8)
            signed += Array(field.value.utf8)
        }
        let key = SymmetricKey(data: Array(authToken.utf8))
        let code = HMAC<Insecure.SHA1>.authenticationCode(for: signed, using: key)
        return Data(code).base64EncodedString()
    }

    /// Whether `signature` is Twilio's for this request; compared in constant time.
    public static func isValid(_ signature: String?, url: String, fields: [ReceiptField], authToken: String) -> Bool {
        guard let signature = signature?.trimmingCharacters(in: .whitespaces), !signature.isEmpty, !authToken.isEmpty
        else { return false }
        let expected = compute(url: url, fields: fields, authToken: authToken)
        return ConstantTime.equals(Array(signature.utf8), Array(expected.utf8))
    }
}

/// Meta's `X-Hub-Signature-256`: `sha256=` and the hex HMAC-SHA256 of the raw body keyed with the
/// app secret.
public enum MetaSignature {
    public static let header = "X-Hub-Signature-256"

    /// The header value Meta sends for `body`.
    public static func compute(body: some Collection<UInt8>, appSecret: String) -> String {
        let key = SymmetricKey(data: Array(appSecret.utf8))
        return "sha256=" + Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(body), using: key))
    }

    /// Whether `header` is Meta's signature of `body`; checked over the raw bytes, in constant time.
    public static func isValid(_ header: String?, body: some Collection<UInt8>, appSecret: String) -> Bool {
        guard let header = header?.trimmingCharacters(in: .whitespaces), header.hasPrefix("sha256="),
            !appSecret.isEmpty, let given = Hex.decode(String(header.dropFirst("sha256=".count))),
            given.count == SHA256.byteCount
        else { return false }
        let key = SymmetricKey(data: Array(appSecret.utf8))
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Array(body), using: key)
    }
}
