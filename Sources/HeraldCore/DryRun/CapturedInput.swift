import Foundation

/// One captured webhook for `herald dry-run`: an envelope written by `herald export`
/// (`{"provider", "headers", "body": "<raw body>", "received_at"}`) or a bare JSON body.
public struct CapturedInput: Sendable {
    /// The path as given, shown in the output.
    public var name: String
    public var provider: String
    public var headers: [HeaderField]
    /// The raw body bytes, exactly as received.
    public var body: [UInt8]
    public var receivedAt: Date?
    /// False for a bare body: there is nothing to verify.
    public var isEnvelope: Bool
    /// A bare body as `decode` parsed it (to tell it from an envelope), so that it is not parsed
    /// again; nil for an envelope's body and for a body that is not JSON.
    public var parsedBody: JSONValue?

    public init(
        name: String, provider: String, headers: [HeaderField], body: [UInt8], receivedAt: Date?, isEnvelope: Bool
    ) {
        self.name = name
        self.provider = provider
        self.headers = headers
        self.body = body
        self.receivedAt = receivedAt
        self.isEnvelope = isEnvelope
    }

    /// Reads `bytes` as an envelope or a bare body. The provider comes from the envelope, then
    /// `providerOverride` (`--provider`), then `folderProvider` (`samples/<provider>/…`).
    /// `requireJSON` (a line of a JSON Lines file): text that is not JSON is a broken line, not a
    /// body; the error carries the byte offset where reading stopped.
    public static func decode(
        name: String, bytes: [UInt8], providerOverride: String?, folderProvider: String?, requireJSON: Bool = false
    ) -> Result<CapturedInput, CaptureError> {
        let json: JSONValue
        do {
            json = try JSONParser.parse(bytes)
        } catch {
            if requireJSON {
                var failure = CaptureError("invalid JSON: \(error.reason)")
                failure.offset = error.offset
                return .failure(failure)
            }
            // Not JSON at all: still a body a provider could have sent (it is stored that way too).
            guard let provider = providerOverride ?? folderProvider else {
                return .failure(
                    CaptureError(
                        "\(error.description); and no provider: pass --provider or put it in samples/<provider>/"))
            }
            return .success(
                CapturedInput(
                    name: name, provider: provider, headers: [], body: bytes, receivedAt: nil, isEnvelope: false))
        }
        let isEnvelope = json["body"] != nil || json["body_base64"] != nil
        guard isEnvelope else {
            guard let provider = providerOverride ?? folderProvider else {
                return .failure(
                    CaptureError("no provider for a bare body: pass --provider or put it in samples/<provider>/"))
            }
            var input = CapturedInput(
                name: name, provider: provider, headers: [], body: bytes, receivedAt: nil, isEnvelope: false)
            input.parsedBody = json
            return .success(input)
        }
        let body: [UInt8]
        if let encoded = json["body_base64"] {
            guard case .string(let text) = encoded, let data = Data(base64Encoded: text) else {
                return .failure(CaptureError("envelope: body_base64 is not valid base64"))
            }
            body = Array(data)
        } else {
            guard case .string(let text)? = json["body"] else {
                let found = json["body"].map(Self.kind) ?? "nothing"
                return .failure(
                    CaptureError("envelope: body must be the raw body as a string (or body_base64), found \(found)"))
            }
            body = Array(text.utf8)
        }
        var headers: [HeaderField] = []
        switch json["headers"] {
        case .object(let members)?:
            for member in members {
                guard case .string(let value) = member.value else {
                    return .failure(CaptureError("envelope: header '\(member.key)' must be a string"))
                }
                headers.append(HeaderField(name: member.key, value: value))
            }
        case .array(let pairs)?:
            for pair in pairs {
                guard case .array(let parts) = pair, parts.count == 2, case .string(let key) = parts[0],
                    case .string(let value) = parts[1]
                else { return .failure(CaptureError("envelope: headers must be an object or a list of [name, value]")) }
                headers.append(HeaderField(name: key, value: value))
            }
        case nil, .null?:
            break
        default:
            return .failure(CaptureError("envelope: headers must be an object or a list of [name, value]"))
        }
        var provider: String? = providerOverride ?? folderProvider
        if case .string(let named)? = json["provider"] { provider = named }
        guard let provider else { return .failure(CaptureError("envelope names no provider")) }
        var receivedAt: Date?
        if case .string(let text)? = json["received_at"] {
            guard let date = Timestamp.parse(text, defaultTimeZone: TimeZone(identifier: "UTC")!) else {
                return .failure(CaptureError("envelope: received_at '\(text)' is not an ISO 8601 date"))
            }
            receivedAt = date
        }
        return .success(
            CapturedInput(
                name: name, provider: provider, headers: headers, body: body, receivedAt: receivedAt, isEnvelope: true))
    }

    static func kind(_ value: JSONValue) -> String {
        switch value {
        case .object: return "an object"
        case .array: return "a list"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        case .string: return "a string"
        }
    }

    /// The envelope `herald export` writes: raw body byte for byte (as text when it is UTF-8).
    public static func envelope(
        provider: String, headers: [HeaderField], body: [UInt8], receivedAt: Date, deliveryID: String?
    ) -> String {
        var members: [(key: String, value: JSONValue)] = [
            ("provider", .string(provider)),
            ("received_at", .string(Timestamp.format(receivedAt))),
        ]
        if let deliveryID { members.append(("delivery_id", .string(deliveryID))) }
        members.append(("headers", .object(headers.map { ($0.name, JSONValue.string($0.value)) })))
        if let text = String(validating: body, as: UTF8.self) {
            members.append(("body", .string(text)))
        } else {
            members.append(("body_base64", .string(Data(body).base64EncodedString())))
        }
        return JSONValue.object(members).serialized()
    }
}

public struct CaptureError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// Where in the input reading stopped (bytes from its start), when that is known.
    public var offset: Int?
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
