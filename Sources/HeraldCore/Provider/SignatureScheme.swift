import Crypto
import Foundation

/// How a provider proves that a webhook is its own.
public enum SignatureScheme: Sendable {
    /// An HMAC-SHA256 of the raw body in a header, hex or base64, with an optional prefix such as `sha256=`.
    case hmacSHA256(header: String, encoding: SignatureEncoding, prefix: String?, secrets: [Secret])
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>` over
    /// `id.timestamp.body`, `whsec_` secrets, several secrets during rotation.
    case standardWebhooks(secrets: [Secret], tolerance: TimeInterval)
    /// A shared secret or app id sent as is in a named header.
    case headerToken(header: String, token: Secret)
    /// Nothing to check (only for providers that document no authentication; combine with `allow_ips`).
    case none

    public var name: String {
        switch self {
        case .hmacSHA256: return "hmac-sha256"
        case .standardWebhooks: return "standard-webhooks"
        case .headerToken: return "header-token"
        case .none: return "none"
        }
    }

    /// The header values that are secrets themselves and must not be stored or shown.
    public var secretHeaders: [String] {
        if case .headerToken(let header, _) = self { return [header] }
        return []
    }

    var secrets: [Secret] {
        switch self {
        case .hmacSHA256(_, _, _, let secrets), .standardWebhooks(let secrets, _): return secrets
        case .headerToken(_, let token): return [token]
        case .none: return []
        }
    }
}

public enum SignatureEncoding: String, Sendable, CaseIterable {
    case hex
    case base64
}

/// The answer to "is this webhook authentic?".
public enum VerificationOutcome: Sendable, Equatable {
    case verified
    /// Not authentic; the reason is safe to send back and to log (it never contains a secret).
    case rejected(String)
    /// The provider's secret is unset, so nothing can be verified: answer 503 so the sender retries.
    case unconfigured(missing: [String])
}

/// A provider's whole verification: the signature scheme, the optional IP allow-list and the
/// optional secret path token.
public struct Verification: Sendable {
    public var scheme: SignatureScheme
    public var allowIPs: [CIDR]
    public var pathToken: Secret?

    public init(scheme: SignatureScheme, allowIPs: [CIDR] = [], pathToken: Secret? = nil) {
        self.scheme = scheme
        self.allowIPs = allowIPs
        self.pathToken = pathToken
    }

    /// The environment variables this verification needs that are unset.
    public var missingVariables: [String] {
        var missing = scheme.secrets.flatMap(\.missing)
        if let pathToken { missing += pathToken.missing }
        return missing
    }

    public func verify(_ request: WebhookRequest, now: Date) -> VerificationOutcome {
        let missing = missingVariables
        if !missing.isEmpty { return .unconfigured(missing: missing) }
        if !allowIPs.isEmpty {
            guard let address = request.remoteAddress, allowIPs.contains(where: { $0.contains(address) }) else {
                return .rejected("source address not allowed")
            }
        }
        if let expected = pathToken?.value {
            guard let given = request.pathToken, ConstantTime.equals(Array(given.utf8), Array(expected.utf8)) else {
                return .rejected("wrong or missing path token")
            }
        }
        switch scheme {
        case .none:
            return .verified
        case .headerToken(let header, let token):
            guard let given = request.header(header), !given.isEmpty else {
                return .rejected("missing \(header) header")
            }
            guard ConstantTime.equals(Array(given.utf8), Array((token.value ?? "").utf8)) else {
                return .rejected("wrong \(header)")
            }
            return .verified
        case .hmacSHA256(let header, let encoding, let prefix, let secrets):
            guard var given = request.header(header).map(Self.trimmed), !given.isEmpty else {
                return .rejected("missing \(header) header")
            }
            if let prefix, !prefix.isEmpty {
                guard given.hasPrefix(prefix) else { return .rejected("\(header) does not start with '\(prefix)'") }
                given.removeFirst(prefix.count)
            }
            guard let signature = encoding.decode(given), signature.count == SHA256.byteCount else {
                return .rejected("\(header) is not a \(encoding.rawValue) HMAC-SHA256")
            }
            for secret in secrets {
                let key = SymmetricKey(data: Array((secret.value ?? "").utf8))
                if HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: request.body, using: key) {
                    return .verified
                }
            }
            return .rejected("signature does not match the body")
        case .standardWebhooks(let secrets, let tolerance):
            return StandardWebhooks.verify(request, secrets: secrets, tolerance: tolerance, now: now)
        }
    }
}

extension Verification {
    /// `text` without surrounding spaces and tabs. Measured: `trimmingCharacters(in:)` bridges
    /// through NSString even when there is nothing to trim (3 % of a dry-run of 20 000 envelopes),
    /// so a header with no white space at either end is returned as is.
    static func trimmed(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last,
            first.properties.isWhitespace || last.properties.isWhitespace
        else { return text }
        return text.trimmingCharacters(in: .whitespaces)
    }
}

extension SignatureEncoding {
    func decode(_ text: String) -> [UInt8]? {
        switch self {
        case .base64: return Data(base64Encoded: text).map { Array($0) }
        case .hex: return Hex.decode(text)
        }
    }

    public func encode(_ bytes: some Sequence<UInt8>) -> String {
        switch self {
        case .base64: return Data(bytes).base64EncodedString()
        case .hex: return Hex.encode(bytes)
        }
    }
}

/// The Standard Webhooks signature scheme (standardwebhooks.com).
public enum StandardWebhooks {
    /// The signing key of a `whsec_…` secret: the base64 after the prefix, padded or not (the
    /// official libraries accept both); nil when it is not base64 or decodes to nothing.
    public static func key(for secret: String) -> SymmetricKey? {
        var encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        encoded = encoded.trimmingCharacters(in: .whitespaces)
        if encoded.count % 4 != 0, !encoded.hasSuffix("=") {
            encoded += String(repeating: "=", count: 4 - encoded.count % 4)
        }
        guard let data = Data(base64Encoded: encoded), !data.isEmpty else { return nil }
        return SymmetricKey(data: data)
    }

    /// The three headers, each read as `webhook-…` or, when that one is absent, as Svix names it
    /// (`svix-id`, `svix-timestamp`, `svix-signature`): senders built on Svix use those.
    static func header(_ name: String, in request: WebhookRequest) -> String? {
        request.header("webhook-" + name) ?? request.header("svix-" + name)
    }

    /// `v1,<base64>` for the given message; what a sender puts in `webhook-signature`.
    public static func sign(id: String, timestamp: Int, body: [UInt8], secret: String) -> String? {
        guard let key = key(for: secret) else { return nil }
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(id).\(timestamp).".utf8) + body, using: key)
        return "v1," + Data(mac).base64EncodedString()
    }

    static func verify(_ request: WebhookRequest, secrets: [Secret], tolerance: TimeInterval, now: Date)
        -> VerificationOutcome
    {
        guard let id = header("id", in: request), !id.isEmpty else { return .rejected("missing webhook-id header") }
        guard let timestampText = header("timestamp", in: request) else {
            return .rejected("missing webhook-timestamp header")
        }
        guard let timestamp = Int(timestampText.trimmingCharacters(in: .whitespaces)) else {
            return .rejected("webhook-timestamp is not a number of seconds")
        }
        guard abs(now.timeIntervalSince1970 - Double(timestamp)) <= tolerance else {
            return .rejected("webhook-timestamp outside the \(Int(tolerance)) s tolerance")
        }
        guard let header = header("signature", in: request), !header.isEmpty else {
            return .rejected("missing webhook-signature header")
        }
        let given: [[UInt8]] = header.split(separator: " ").compactMap { entry in
            let parts = entry.split(separator: ",", maxSplits: 1)
            guard parts.count == 2, parts[0] == "v1", let data = Data(base64Encoded: String(parts[1])) else {
                return nil
            }
            return Array(data)
        }
        guard !given.isEmpty else { return .rejected("webhook-signature has no v1 signature") }
        let signed = Array("\(id).\(timestamp).".utf8) + request.body
        for secret in secrets {
            guard let key = key(for: secret.value ?? "") else { continue }
            for signature in given
            where HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: signed, using: key) {
                return .verified
            }
        }
        return .rejected("signature does not match the body")
    }
}

enum ConstantTime {
    /// Compares without an early exit, so timing does not reveal how much of a token was right.
    static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        let da = Array(SHA256.hash(data: a)), db = Array(SHA256.hash(data: b))
        var difference: UInt8 = 0
        for i in 0..<da.count { difference |= da[i] ^ db[i] }
        return difference == 0
    }
}

public enum Hex {
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            case 0x41...0x46: return c - 0x41 + 10
            default: return nil
            }
        }
        var i = 0
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}
