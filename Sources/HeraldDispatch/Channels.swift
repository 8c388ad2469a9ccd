import Foundation
import HeraldCore

/// What a channel is asked to deliver.
public struct ChannelMessage: Sendable, Equatable {
    public var idempotencyKey: String
    /// E.164.
    public var to: String
    public var text: String
    public var locale: String
    /// For WhatsApp Cloud: the approved template to send; nil sends free text.
    public var whatsapp: WhatsAppTemplateCall?

    public init(idempotencyKey: String, to: String, text: String, locale: String, whatsapp: WhatsAppTemplateCall? = nil)
    {
        self.idempotencyKey = idempotencyKey
        self.to = to
        self.text = text
        self.locale = locale
        self.whatsapp = whatsapp
    }
}

/// How a send attempt ended, classified as docs/sending.md describes.
public enum SendOutcome: Sendable, Equatable {
    case sent(providerID: String?)
    /// Transient (network, 5xx, 429, rate limits): try again, after `after` seconds when the provider said.
    case retry(String, after: TimeInterval?)
    /// Permanent (invalid number, STOP, not on WhatsApp, invalid parameter): do not retry.
    case failed(String)
    /// The channel cannot work until the operator acts (expired or wrong credentials).
    case hold(String)
    /// WhatsApp 131047 (outside the 24 h window): use the rule's fallback channel.
    case fallback(String)
    /// Sent, but no answer: looked up (Twilio), retried only if the channel deduplicates or the
    /// rule allows it, otherwise `unknown` until a receipt says.
    case unknownOutcome(String)
    /// Refused because the recipient opted out (Twilio 21610): fails, and the number is suppressed
    /// on every channel. WhatsApp's 131050 is not one: it refuses marketing templates only, and
    /// Herald's order updates still reach the customer.
    case optedOut(String)
    /// Permanent for this message, and a person must act for the next ones (Twilio 21408: the
    /// account has no permission to send to the country).
    case needsOperator(String, OperatorAlert)
}

/// A condition only a person can fix; counted in `herald_operator_alerts_total{reason}` and
/// logged at critical level.
public enum OperatorAlert: String, Sendable, Equatable, CaseIterable {
    /// The provider refused the channel's credentials (expired or revoked token, wrong secret).
    case credentialsRejected = "credentials_rejected"
    /// Twilio 21408: the account may not send to the recipient's country (geo permissions).
    case geoPermission = "geo_permission"
    /// A message is held because its channel cannot send (credentials unset, misconfigured).
    case channelHeld = "channel_held"
}

/// A way to reach a phone: Twilio SMS, the WhatsApp Cloud API, or a generic HTTP gateway.
public protocol MessageChannel: Sendable {
    var name: String { get }
    /// Whether the provider deduplicates by the idempotency key (so a retry after an unknown outcome is safe).
    var isIdempotent: Bool { get }
    func request(for message: ChannelMessage) throws(ChannelError) -> OutgoingRequest
    func classify(_ response: IncomingResponse) -> SendOutcome
}

extension MessageChannel {
    /// Sends `message` through `transport` and classifies the answer.
    public func send(_ message: ChannelMessage, transport: any HTTPTransport) async -> SendOutcome {
        let request: OutgoingRequest
        do {
            request = try self.request(for: message)
        } catch {
            return .failed(error.message)
        }
        do {
            return classify(try await transport.send(request))
        } catch {
            switch error {
            case .notSent(let reason): return .retry("network: \(reason)", after: nil)
            case .unknownOutcome(let reason): return .unknownOutcome("no answer: \(reason)")
            }
        }
    }
}

public struct ChannelError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum Channels {
    /// The channel a rules.yaml entry describes. `baseURL` replaces the provider's API address
    /// (tests and staging point it at a local server); `base_url` in the settings does the same.
    /// `publicURL` (`herald serve --public-url`) is where providers send receipts: a Twilio channel
    /// without its own `status_callback` asks for them at `{publicURL}/receipts/{channel}?key=…`.
    public static func make(_ config: RuleSet.Channel, baseURL: URL? = nil, publicURL: String? = nil)
        throws(ChannelError) -> any MessageChannel
    {
        let base = baseURL ?? config.configuration.common.baseURL.flatMap(URL.init(string:))
        switch config.configuration {
        case .twilio(let twilio):
            return TwilioChannel(
                name: config.name, accountSID: twilio.accountSID, authToken: twilio.authToken, from: twilio.from,
                messagingServiceSID: twilio.messagingServiceSID, statusCallback: twilio.statusCallback,
                baseURL: base ?? URL(string: "https://api.twilio.com")!, whatsapp: twilio.whatsapp,
                receiptsURL: publicURL.map { receiptsURL(publicURL: $0, channel: config.name) })
        case .whatsAppCloud(let whatsapp):
            return WhatsAppCloudChannel(
                name: config.name, phoneNumberID: whatsapp.phoneNumberID, token: whatsapp.token,
                version: whatsapp.version, baseURL: base ?? URL(string: "https://graph.facebook.com")!)
        case .http(let gateway):
            guard var url = URL(string: gateway.url) else {
                throw ChannelError("channel '\(config.name)': http needs a url")
            }
            if let base { url = base.appendingPathComponent(url.path) }
            var headers: [String: String] = [:]
            for header in gateway.headers { headers[header.name] = header.value }
            var body = gateway.body.map { ($0.name, $0.value) }
            if body.isEmpty { body = [("to", "{{to}}"), ("text", "{{text}}")] }
            do {
                return try HTTPGatewayChannel(
                    name: config.name, url: url, method: gateway.method, headers: headers, body: body,
                    form: gateway.format == .form)
            } catch {
                throw ChannelError("channel '\(config.name)': a body value does not compile: \(error)")
            }
        }
    }

    /// `{publicURL}/receipts/{channel}`, the route `ReceiptIntake` serves.
    public static func receiptsURL(publicURL: String, channel: String) -> String {
        (publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL) + "/receipts/" + channel
    }

    static func formEncode(_ pairs: [(String, String)]) -> [UInt8] {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let text = pairs.map { key, value in
            "\(key.addingPercentEncoding(withAllowedCharacters: allowed) ?? key)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
        }.joined(separator: "&")
        return Array(text.utf8)
    }

    static func retryAfter(_ response: IncomingResponse) -> TimeInterval? {
        response.header("Retry-After").flatMap { TimeInterval($0.trimmingCharacters(in: .whitespaces)) }
    }
}

/// Twilio Programmable Messaging: `POST /2010-04-01/Accounts/{AccountSid}/Messages.json`,
/// form-encoded, HTTP Basic auth, 201 on success. Twilio does not deduplicate sends (its spec has
/// no idempotency header or field), so an unknown outcome is resolved by a lookup
/// (`TwilioChannel+Lookup.swift`), never by a blind resend.
public struct TwilioChannel: MessageChannel {
    public var name: String
    public var accountSID: String
    public var authToken: String
    public var from: String?
    public var messagingServiceSID: String?
    public var statusCallback: String?
    public var baseURL: URL
    /// WhatsApp through Twilio: `To` and `From` become `whatsapp:+…` addresses.
    public var whatsapp: Bool = false
    /// Where Twilio posts status callbacks when `statusCallback` is not set: `?key=` and the
    /// message's idempotency key are added, so a receipt finds its message even when the send's
    /// answer was lost (Twilio signs the URL with its query, so the key cannot be forged).
    public var receiptsURL: String?
    public var isIdempotent: Bool { false }

    /// A number as Twilio writes it in `To` and `From` (`whatsapp:+…` on a WhatsApp sender).
    func address(_ number: String) -> String {
        whatsapp && !number.hasPrefix("whatsapp:") ? "whatsapp:\(number)" : number
    }

    var basicAuthorization: String {
        "Basic \(Data("\(accountSID):\(authToken)".utf8).base64EncodedString())"
    }

    public func request(for message: ChannelMessage) throws(ChannelError) -> OutgoingRequest {
        var form: [(String, String)] = [("To", address(message.to))]
        if let from { form.append(("From", address(from))) }
        if let messagingServiceSID { form.append(("MessagingServiceSid", messagingServiceSID)) }
        form.append(("Body", message.text))
        if let statusCallback {
            form.append(("StatusCallback", statusCallback))
        } else if let receiptsURL {
            // The key is hex (SHA-256), so it needs no escaping in the query.
            form.append(("StatusCallback", receiptsURL + "?key=" + message.idempotencyKey))
        }
        return OutgoingRequest(
            url: baseURL.appendingPathComponent("2010-04-01/Accounts/\(accountSID)/Messages.json"),
            headers: ["Authorization": basicAuthorization, "Content-Type": "application/x-www-form-urlencoded"],
            body: Channels.formEncode(form))
    }

    public func classify(_ response: IncomingResponse) -> SendOutcome {
        let json = try? JSONParser.parse(response.body)
        if (200..<300).contains(response.status) { return .sent(providerID: json?["sid"]?.scalarText) }
        let code = json?["code"]?.scalarText.flatMap(Int.init)
        let message = json?["message"]?.scalarText ?? "HTTP \(response.status)"
        let reason = "twilio \(code.map(String.init) ?? "HTTP \(response.status)"): \(message)"
        switch (response.status, code) {
        case (429, _), (_, 20429?): return .retry(reason, after: Channels.retryAfter(response))
        case (500..., _): return .retry(reason, after: Channels.retryAfter(response))
        case (401, _), (_, 20003?): return .hold(reason)
        case (_, 21610?): return .optedOut(reason)
        case (_, 21408?): return .needsOperator(reason, .geoPermission)
        default: return .failed(reason)  // 21211, 21614, 21635 invalid To; other 4xx
        }
    }
}

/// The WhatsApp Cloud API: `POST /{version}/{phone-number-id}/messages`, Bearer token, JSON;
/// business-initiated messages go as the approved template bound in whatsapp.yaml.
public struct WhatsAppCloudChannel: MessageChannel {
    public var name: String
    public var phoneNumberID: String
    public var token: String
    public var version: String
    public var baseURL: URL
    public var isIdempotent: Bool { false }

    public func request(for message: ChannelMessage) throws(ChannelError) -> OutgoingRequest {
        var members: [(key: String, value: JSONValue)] = [
            ("messaging_product", .string("whatsapp")),
            ("recipient_type", .string("individual")),
            ("to", .string(message.to)),
        ]
        if let call = message.whatsapp {
            members.append(("type", .string("template")))
            var template: [(key: String, value: JSONValue)] = [
                ("name", .string(call.name)),
                ("language", .object([("policy", .string("deterministic")), ("code", .string(call.language))])),
            ]
            if !call.parameters.isEmpty {
                template.append(
                    (
                        "components",
                        .array([
                            .object([
                                ("type", .string("body")),
                                (
                                    "parameters",
                                    .array(
                                        call.parameters.map {
                                            .object([("type", .string("text")), ("text", .string($0))])
                                        })
                                ),
                            ])
                        ])
                    ))
            }
            members.append(("template", .object(template)))
        } else {
            members.append(("type", .string("text")))
            members.append(("text", .object([("preview_url", .bool(false)), ("body", .string(message.text))])))
        }
        // Meta echoes it in every status webhook of the message, so a receipt finds the message by
        // its key even when the send's answer (the wamid) was lost. Meta allows 512 characters; the
        // key is 64 hex digits.
        members.append(("biz_opaque_callback_data", .string(message.idempotencyKey)))
        return OutgoingRequest(
            url: baseURL.appendingPathComponent("\(version)/\(phoneNumberID)/messages"),
            headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"],
            body: Array(JSONValue.object(members).serialized().utf8))
    }

    public func classify(_ response: IncomingResponse) -> SendOutcome {
        let json = try? JSONParser.parse(response.body)
        if (200..<300).contains(response.status) {
            return .sent(providerID: json?["messages"]?.arrayValue?.first?["id"]?.scalarText)
        }
        let error = json?["error"]
        let code = error?["code"]?.scalarText.flatMap(Int.init)
        let detail =
            error?["error_data"]?["details"]?.scalarText ?? error?["message"]?.scalarText ?? "HTTP \(response.status)"
        let reason = "whatsapp \(code.map(String.init) ?? "HTTP \(response.status)"): \(detail)"
        switch (response.status, code) {
        // Rate limits: 4 (application), 80007 (WhatsApp Business Account), 130429 (throughput),
        // 131048 (spam rate limit), 131056 (pair rate limit).
        case (_, 4?), (_, 80007?), (_, 130429?), (_, 131048?), (_, 131056?), (429, _):
            return .retry(reason, after: Channels.retryAfter(response) ?? 60)
        case (_, 131047?): return .fallback(reason)
        case (_, 190?), (401, _): return .hold(reason)
        case (500..., _): return .retry(reason, after: Channels.retryAfter(response))
        default: return .failed(reason)  // 131026 undeliverable, 100 invalid parameter, other 4xx
        }
    }
}

/// Any HTTP SMS gateway: URL, method, headers and a JSON or form body whose values are Mustache
/// over `to`, `text`, `locale` and `idempotency_key`; sends an `Idempotency-Key` header.
public struct HTTPGatewayChannel: MessageChannel {
    public var name: String
    public var url: URL
    public var method: String
    public var headers: [String: String]
    let body: [(String, [MustacheNode])]
    public var form: Bool
    public var isIdempotent: Bool { true }

    init(name: String, url: URL, method: String, headers: [String: String], body: [(String, String)], form: Bool) throws
    {
        self.name = name
        self.url = url
        self.method = method
        self.headers = headers
        self.body = try body.map { ($0.0, try MustacheParser.parse($0.1)) }
        self.form = form
    }

    public func request(for message: ChannelMessage) throws(ChannelError) -> OutgoingRequest {
        let values = JSONValue.object([
            ("to", .string(message.to)), ("text", .string(message.text)), ("locale", .string(message.locale)),
            ("idempotency_key", .string(message.idempotencyKey)),
        ])
        let renderer = MustacheDataRenderer(escapesHTML: false)
        let rendered = body.map { ($0.0, renderer.render($0.1, data: values)) }
        var headers = self.headers
        headers["Idempotency-Key"] = message.idempotencyKey
        headers["Content-Type"] = form ? "application/x-www-form-urlencoded" : "application/json"
        let bytes =
            form
            ? Channels.formEncode(rendered)
            : Array(JSONValue.object(rendered.map { ($0.0, JSONValue.string($0.1)) }).serialized().utf8)
        return OutgoingRequest(method: method, url: url, headers: headers, body: bytes)
    }

    public func classify(_ response: IncomingResponse) -> SendOutcome {
        let json = try? JSONParser.parse(response.body)
        if (200..<300).contains(response.status) {
            return .sent(providerID: json?["id"]?.scalarText ?? json?["message_id"]?.scalarText)
        }
        let reason = "gateway HTTP \(response.status): \(String(decoding: response.body.prefix(200), as: UTF8.self))"
        switch response.status {
        case 429, 500...: return .retry(reason, after: Channels.retryAfter(response))
        case 401, 403: return .hold(reason)
        default: return .failed(reason)
        }
    }
}
