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

    /// Whether `signature` is Twilio's for this request over `url` or its other default-port form
    /// (`urlVariants`); every form is checked, so the time taken does not tell which matched.
    public static func isValid(
        _ signature: String?, anyFormOf url: String, fields: [ReceiptField], authToken: String
    ) -> Bool {
        urlVariants(url).map { isValid(signature, url: $0, fields: fields, authToken: authToken) }.contains(true)
    }

    /// `url` as configured, and with its default port written or left out (`https://h/x` and
    /// `https://h:443/x`; `:80` for http). Twilio signs the URL as it is configured at Twilio, which
    /// may differ from Herald's public URL in that only; its helper libraries accept both forms
    /// (twilio-python's `RequestValidator.validate` checks the URL with the port added and
    /// removed). A port other than the scheme's default is part of the address and never varies.
    public static func urlVariants(_ url: String) -> [String] {
        guard let schemeEnd = url.range(of: "://") else { return [url] }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let defaultPort = scheme == "https" ? "443" : scheme == "http" ? "80" : nil
        guard let defaultPort else { return [url] }
        let authorityEnd = url[schemeEnd.upperBound...].firstIndex { "/?#".contains($0) } ?? url.endIndex
        let authority = url[schemeEnd.upperBound..<authorityEnd]
        // The port follows the last ':' after the host (after any user info; an IPv6 host is in brackets).
        let host = authority.lastIndex(of: "@") ?? authority.startIndex
        let hostEnd = authority[host...].lastIndex(of: "]") ?? host
        if let colon = authority[hostEnd...].lastIndex(of: ":") {
            let port = authority[authority.index(after: colon)...]
            guard port == defaultPort else { return [url] }
            return [url, String(url[..<colon]) + String(url[authorityEnd...])]
        }
        return [url, String(url[..<authorityEnd]) + ":" + defaultPort + String(url[authorityEnd...])]
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
