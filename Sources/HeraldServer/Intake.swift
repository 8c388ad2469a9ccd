import Dispatch
import Foundation
import HeraldCore
import HeraldStore
import Hummingbird
import Logging
import Metrics
import NIOCore

/// The front door: `POST /webhooks/{provider}`.
///
/// Verifies over the raw bytes, reads the keys that identify the event and its order, and answers
/// 200 only once the event is committed; the processor does the rest.
/// A verified body that cannot be used is still stored and answered 200, because some senders
/// disable a webhook that answers 4xx and an authenticated event must never be lost.
public struct WebhookIntake: Sendable {
    /// Fixed at init: the metric handles are resolved per provider then.
    public let providers: [String: ProviderProfile]
    public var store: any Store
    public var maxBodySize: Int
    public var clock: @Sendable () -> Date
    /// The proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`); none by default.
    public var trustedProxies = TrustedProxies()
    /// The `Retry-After` of a 503 answered while the store is unavailable, in seconds.
    static let retryAfterSeconds = 5
    /// Called after a new event is committed (wakes the processor).
    public var onAccepted: @Sendable () -> Void = {}
    let metrics: IntakeMetrics

    public init(
        providers: [ProviderProfile], store: any Store, maxBodySize: Int = 1 << 20,
        clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.providers = Dictionary(providers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.store = store
        self.maxBodySize = maxBodySize
        self.clock = clock
        self.metrics = IntakeMetrics(providers: self.providers.keys)
    }

    public func handle(
        provider name: String, pathToken: String?, request: Request, context: HeraldRequestContext
    ) async -> Response {
        let started = DispatchTime.now()
        let response = await answer(provider: name, pathToken: pathToken, request: request, context: context)
        metrics.record(
            provider: providers[name] != nil ? name : "unknown", status: response.status.code, since: started)
        return response
    }

    func answer(
        provider name: String, pathToken: String?, request: Request, context: HeraldRequestContext
    ) async -> Response {
        let logger = context.logger
        guard let profile = providers[name] else {
            logger.notice("webhook for unknown provider", metadata: ["herald.provider": "\(LogSafe.name(name))"])
            return .json(.notFound, status: "error", reason: "unknown provider")
        }
        // Built only for a line that is logged (`Logger` takes its metadata as an autoclosure).
        func metadata() -> Logger.Metadata { ["herald.provider": "\(name)"] }
        var request = request
        let buffer: ByteBuffer
        switch await BoundedBody.collect(&request, upTo: maxBodySize) {
        case .read(let read):
            buffer = read
        case .tooLarge(let declared):
            logger.notice(
                "webhook body over the limit",
                metadata: metadata().merging(declared.map { ["herald.bytes": "\($0)"] } ?? [:]) { $1 })
            return BoundedBody.tooLargeResponse(limit: maxBodySize)
        case .unreadable(let error):
            logger.notice("webhook body could not be read", metadata: metadata().merging(["error": "\(error)"]) { $1 })
            return BoundedBody.unreadableResponse
        }
        let forwardedFor = request.headers.filter { $0.name.canonicalName == "x-forwarded-for" }.map(\.value)
        let webhook = WebhookRequest(
            provider: name,
            headers: request.headers.map { HeaderField(name: $0.name.rawName, value: $0.value) },
            body: Array(buffer.readableBytesView),
            remoteAddress: trustedProxies.clientAddress(
                peer: context.remoteAddress?.ipAddress, forwardedFor: forwardedFor),
            pathToken: pathToken,
            receivedAt: clock())
        switch profile.verification.verify(webhook, now: webhook.receivedAt) {
        case .verified:
            break
        case .unconfigured(let missing):
            logger.warning(
                "webhook refused: provider secret not configured",
                metadata: metadata().merging(["herald.missing_env": "\(missing.joined(separator: ","))"]) { $1 })
            return .json(.serviceUnavailable, status: "unavailable", reason: "provider not configured")
        case .rejected(let reason):
            logger.notice(
                "webhook rejected",
                metadata: metadata().merging([
                    "herald.reason": "\(reason)", "herald.remote": "\(webhook.remoteAddress ?? "-")",
                ]) { $1 })
            return .json(.unauthorized, status: "rejected", reason: reason)
        }
        // The keys only: the processor normalizes the body and decides the order's state.
        let incoming = IncomingEvent(request: webhook, profile: profile)
        do {
            switch try await store.record(incoming) {
            case .accepted(let summary):
                onAccepted()
                // The one line of an accepted webhook, built only when it is logged (serve's
                // default level is info; the benchmarks run at warning).
                if let parseError = incoming.parseError {
                    logger.warning(
                        "webhook stored with a body that is not JSON",
                        metadata: metadata().merging([
                            "herald.event_id": "\(summary.id)", "herald.parse_error": "\(parseError)",
                        ]) { $1 })
                } else if logger.logLevel <= .info {
                    var details = metadata()
                    details["herald.event_id"] = "\(summary.id)"
                    details["herald.remote"] = "\(webhook.remoteAddress ?? "-")"
                    details["herald.order"] = "\(incoming.orderReference ?? "-")"
                    details["herald.status"] = "\(incoming.status ?? "-")"
                    logger.info("webhook accepted", metadata: details)
                }
                return .json(.ok, status: "accepted")
            case .duplicate(let id):
                if logger.logLevel <= .info {
                    logger.info("webhook duplicate", metadata: metadata().merging(["herald.event_id": "\(id)"]) { $1 })
                }
                return .json(.ok, status: "duplicate")
            }
        } catch {
            // Not acknowledged: the sender retries, and an event that did commit comes back a duplicate.
            logger.error("store unavailable", metadata: metadata().merging(["error": "\(error)"]) { $1 })
            var response = Response.json(.serviceUnavailable, status: "unavailable", reason: "store unavailable")
            response.headers[.retryAfter] = "\(Self.retryAfterSeconds)"
            return response
        }
    }
}

extension Response {
    /// A small JSON answer: `{"status":"accepted"}`, `{"status":"rejected","reason":"…"}`.
    static func json(_ code: HTTPResponse.Status, status: String, reason: String? = nil) -> Response {
        var text = "{\"status\":"
        JSONValue.writeString(status, to: &text)
        if let reason {
            text += ",\"reason\":"
            JSONValue.writeString(reason, to: &text)
        }
        text += "}"
        return Response(
            status: code, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Makes values safe for logs: customer phone numbers are masked, untrusted names are cut short.
public enum LogSafe {
    /// `+212661234567` → `+2126•••••567`: enough to tell numbers apart, not enough to call.
    public static func phone(_ phone: String?) -> String {
        guard let phone, !phone.isEmpty else { return "-" }
        // A held message's recipient may be the rule's unset variable (`${MERCHANT_PHONE}`): no number.
        if phone.hasPrefix("${") { return phone }
        // `herald forget` left a hash where the number was.
        if NumberHash.isHash(phone) { return "(forgotten)" }
        let chars = Array(phone)
        guard chars.count > 6 else { return String(repeating: "•", count: chars.count) }
        return String(chars.prefix(4)) + String(repeating: "•", count: chars.count - 7) + String(chars.suffix(3))
    }

    /// Masks every phone-like run in free text (a provider's error message may quote the
    /// recipient: "The 'To' number +96550001234 is not a valid phone number.").
    public static func redactingPhones(_ text: String) -> String {
        text.replacing(/\+?[0-9](?:[ \-.()]?[0-9]){6,}/) { match in
            let found = String(text[match.range])
            if found.wholeMatch(of: /[0-9]{4}-[0-9]{2}-[0-9]{2}/) != nil { return found }  // a date
            return phone(found.filter { $0 == "+" || $0.isNumber })
        }
    }

    /// A path segment from the request, cut to 64 printable characters.
    public static func name(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.prefix(64).map(Character.init))
    }
}
