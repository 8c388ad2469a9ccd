import Foundation
import HeraldCore
import HeraldStore
import Hummingbird
import Logging
import NIOCore

/// `POST /receipts/{channel}` and Meta's `GET` handshake: what providers report after a send.
///
/// Checked over what the provider signed (Twilio: the public URL and the form fields; Meta: the
/// raw body), kept and applied to the outbox before the 200, deduplicated by the provider's ids.
/// A correctly signed body Herald cannot read is kept with its parse error and answered 200, as
/// providers disable endpoints that keep failing. Receipts never reach the rules.
public struct ReceiptIntake: Sendable {
    public var channels: [String: ChannelConfiguration]
    public var store: any Store
    public var maxBodySize: Int
    /// `--public-url` / `HERALD_PUBLIC_URL`: the address providers call, which Twilio signs.
    public var publicURL: String?
    public var clock: @Sendable () -> Date
    /// The rules' fallback channels, for a receipt saying a customer is out of reach.
    public var fallbacks: ReceiptFallbacks
    /// The dispatcher's wakeup, signalled when a receipt planned a fallback message.
    public var messagesQueued: Wakeup?

    public init(
        channels: [RuleSet.Channel], store: any Store, maxBodySize: Int = 1 << 20, publicURL: String? = nil,
        fallbacks: ReceiptFallbacks = .none, messagesQueued: Wakeup? = nil,
        clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.fallbacks = fallbacks
        self.messagesQueued = messagesQueued
        self.channels = Dictionary(
            channels.map { ($0.name, $0.configuration) }, uniquingKeysWith: { first, _ in first })
        self.store = store
        self.maxBodySize = maxBodySize
        self.publicURL = publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.clock = clock
    }

    public func post(channel name: String, request: Request, context: HeraldRequestContext) async -> Response {
        let logger = context.logger
        guard let configuration = channels[name], configuration.takesReceipts else {
            logger.notice("receipt for unknown channel", metadata: ["herald.channel": "\(LogSafe.name(name))"])
            return .json(.notFound, status: "error", reason: "unknown channel")
        }
        let metadata: Logger.Metadata = ["herald.channel": "\(name)"]
        var request = request
        let body: [UInt8]
        switch await BoundedBody.collect(&request, upTo: maxBodySize) {
        case .read(let buffer):
            body = Array(buffer.readableBytesView)
        case .tooLarge:
            logger.notice("receipt body over the limit", metadata: metadata)
            return BoundedBody.tooLargeResponse(limit: maxBodySize)
        case .unreadable:
            logger.notice("receipt body could not be read", metadata: metadata)
            return BoundedBody.unreadableResponse
        }
        let incoming: [IncomingReceipt]
        switch configuration {
        case .twilio(let twilio):
            guard let publicURL else {
                logger.warning("Twilio receipt refused: no public URL (--public-url) to check its signature against")
                return .json(.serviceUnavailable, status: "unavailable", reason: "public URL not configured")
            }
            guard !twilio.authToken.isEmpty else {
                return .json(.serviceUnavailable, status: "unavailable", reason: "channel not configured")
            }
            let query = request.uri.query.flatMap { $0.isEmpty ? nil : $0 }
            // The URL Twilio called, as it signed it: the public address, this route, the query as sent.
            let url = publicURL + "/receipts/" + name + (query.map { "?" + $0 } ?? "")
            // Checked over the fields read leniently, so a signed form that does not decode is still
            // known to be Twilio's: kept below with its parse error, not refused as unsigned.
            guard
                TwilioSignature.isValid(
                    request.headers[values: .init(TwilioSignature.header)!].first, anyFormOf: url,
                    fields: FormBody.decodeLeniently(body), authToken: twilio.authToken)
            else {
                logger.notice("receipt rejected: bad or missing X-Twilio-Signature", metadata: metadata)
                return .json(.unauthorized, status: "rejected", reason: "bad or missing X-Twilio-Signature")
            }
            let key = query.flatMap { try? FormBody.decode(Array($0.utf8)) }?.last { $0.name == "key" }?.value
            do {
                let fields = try FormBody.decode(body)
                incoming = [incomingReceipt(try ReceiptParser.twilio(fields: fields, key: key), channel: name)]
            } catch let error as FormBody.DecodingError {
                incoming = [IncomingReceipt(channel: name, unparsedBody: body, parseError: error.reason)]
            } catch {
                let reason = (error as? ReceiptParseError)?.reason ?? "\(error)"
                incoming = [IncomingReceipt(channel: name, unparsedBody: body, parseError: reason)]
            }
        case .whatsAppCloud(let whatsapp):
            guard let secret = whatsapp.appSecret else {
                logger.warning("WhatsApp receipt refused: the channel has no app_secret", metadata: metadata)
                return .json(.serviceUnavailable, status: "unavailable", reason: "channel not configured")
            }
            guard
                MetaSignature.isValid(
                    request.headers[values: .init(MetaSignature.header)!].first, body: body, appSecret: secret)
            else {
                logger.notice("receipt rejected: bad or missing X-Hub-Signature-256", metadata: metadata)
                return .json(.unauthorized, status: "rejected", reason: "bad or missing X-Hub-Signature-256")
            }
            do {
                incoming = try ReceiptParser.whatsAppCloud(body: body).map { incomingReceipt($0, channel: name) }
            } catch {
                incoming = [IncomingReceipt(channel: name, unparsedBody: body, parseError: error.reason)]
            }
        case .http:
            return .json(.notFound, status: "error", reason: "unknown channel")
        }
        do {
            let outcomes = try await store.recordReceipts(incoming, at: clock(), fallbacks: fallbacks)
            recordMetrics(incoming, outcomes)
            wakeForFallbacks(outcomes, logger: logger, metadata: metadata)
            let applied = outcomes.filter { if case .recorded(.some, _, _) = $0 { true } else { false } }.count
            let duplicates = outcomes.filter { $0 == .duplicate }.count
            logger.info(
                "receipt accepted",
                metadata: metadata.merging([
                    "herald.receipts": "\(incoming.count)", "herald.applied": "\(applied)",
                    "herald.duplicates": "\(duplicates)",
                    "herald.parse_error": "\(incoming.compactMap(\.parseError).first ?? "-")",
                ]) { $1 })
            let allDuplicates = !outcomes.isEmpty && duplicates == outcomes.count
            return .json(.ok, status: allDuplicates ? "duplicate" : "accepted")
        } catch {
            // Not acknowledged: the provider retries, and a receipt that did commit comes back a duplicate.
            logger.error("store unavailable", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            var response = Response.json(.serviceUnavailable, status: "unavailable", reason: "store unavailable")
            response.headers[.retryAfter] = "\(WebhookIntake.retryAfterSeconds)"
            return response
        }
    }

    /// A receipt as the store takes it: a reply that is one of the channel's keywords (STOP, START)
    /// carries what it does to the suppression list, applied in the transaction that keeps it.
    func incomingReceipt(_ receipt: Receipt, channel name: String) -> IncomingReceipt {
        guard case .reply(let reply) = receipt.content, let keywords = channels[name]?.replyKeywords else {
            return IncomingReceipt(channel: name, receipt: receipt)
        }
        return IncomingReceipt(
            channel: name, receipt: receipt, replyAction: ReplyAction(reply: reply, channel: name, keywords: keywords))
    }

    /// Meta's subscribe handshake: the challenge back when the verify token is the channel's.
    public func handshake(channel name: String, request: Request, context: HeraldRequestContext) -> Response {
        guard let configuration = channels[name], configuration.takesReceipts else {
            return .json(.notFound, status: "error", reason: "unknown channel")
        }
        guard case .whatsAppCloud(let whatsapp) = configuration else {
            var response = Response.json(.methodNotAllowed, status: "error", reason: "only POST is accepted here")
            response.headers[.allow] = "POST"
            return response
        }
        let parameters = request.uri.query.flatMap { try? FormBody.decode(Array($0.utf8)) } ?? []
        func parameter(_ name: String) -> String? { parameters.last { $0.name == name }?.value }
        guard parameter("hub.mode") == "subscribe", let expected = whatsapp.verifyToken,
            let given = parameter("hub.verify_token"),
            Array(given.utf8).count == Array(expected.utf8).count, constantTimeEquals(given, expected),
            let challenge = parameter("hub.challenge")
        else {
            context.logger.notice("WhatsApp handshake refused", metadata: ["herald.channel": "\(name)"])
            return .json(.forbidden, status: "rejected", reason: "wrong verify token")
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: challenge)))
    }

    /// Compares without an early exit (the lengths are compared first: they are not the secret).
    private func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        var difference: UInt8 = 0
        for (x, y) in zip(Array(a.utf8), Array(b.utf8)) { difference |= x ^ y }
        return difference == 0
    }
}

extension ChannelConfiguration {
    /// Whether the provider of this channel type sends receipts Herald reads.
    var takesReceipts: Bool {
        switch self {
        case .twilio, .whatsAppCloud: true
        case .http: false
        }
    }
}
