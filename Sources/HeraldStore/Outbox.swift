import Foundation
import HeraldCore

/// A message waiting in, or gone through, the outbox.
public struct OutboxMessage: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable {
        /// Due at `nextAttemptAt` (quiet hours defer it, never drop it).
        case pending
        /// Claimed by a dispatcher under a lease.
        case sending
        case sent
        /// A receipt said the customer's phone has it.
        case delivered
        /// A receipt said the customer opened it (WhatsApp).
        case read
        /// A receipt said the carrier or WhatsApp gave up (`progress.errorCode` says why).
        case undelivered
        /// Given up, with `lastError`.
        case failed
        /// Waiting for the operator: the channel's credentials are not set (`herald retry` releases it).
        case held
        /// Not sent, and never will be: the recipient is on the suppression list (`lastError` says why).
        case suppressed
        /// A send that may have reached the provider had no answer. Only a lookup (Twilio, due at
        /// `nextAttemptAt`) or a receipt resolves it (`sent`, or `pending` when proved absent);
        /// bulk retry never releases it, `herald retry --force ID` does.
        case unknown
    }

    public var id: Int64
    public var idempotencyKey: String
    public var eventID: Int64
    public var provider: String
    public var orderReference: String?
    public var rule: String
    public var channel: String
    public var recipient: String
    public var locale: String
    public var text: String
    public var encoding: String?
    public var segments: Int?
    public var state: State
    public var attempts: Int
    public var nextAttemptAt: Date?
    public var lastError: String?
    public var providerMessageID: String?
    public var createdAt: Date
    /// When the last send attempt started (a lookup reads the provider's list back to it).
    public var attemptedAt: Date?
    /// For WhatsApp: the approved template call.
    public var whatsapp: WhatsAppTemplateCall?
    /// When the message was sent, delivered, read or reported undelivered.
    public var progress: DeliveryProgress

    public init(
        id: Int64 = 0, idempotencyKey: String, eventID: Int64, provider: String, orderReference: String?, rule: String,
        channel: String, recipient: String, locale: String, text: String, encoding: String?, segments: Int?,
        state: State, attempts: Int = 0, nextAttemptAt: Date?, lastError: String?, providerMessageID: String? = nil,
        createdAt: Date, whatsapp: WhatsAppTemplateCall? = nil, attemptedAt: Date? = nil,
        progress: DeliveryProgress = DeliveryProgress()
    ) {
        self.progress = progress
        self.id = id
        self.idempotencyKey = idempotencyKey
        self.eventID = eventID
        self.provider = provider
        self.orderReference = orderReference
        self.rule = rule
        self.channel = channel
        self.recipient = recipient
        self.locale = locale
        self.text = text
        self.encoding = encoding
        self.segments = segments
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.providerMessageID = providerMessageID
        self.createdAt = createdAt
        self.whatsapp = whatsapp
        self.attemptedAt = attemptedAt
    }
}

public struct MessageQuery: Sendable {
    public var orderReference: String?
    public var state: OutboxMessage.State?
    public var limit: Int

    public init(orderReference: String? = nil, state: OutboxMessage.State? = nil, limit: Int = 100) {
        self.orderReference = orderReference
        self.state = state
        self.limit = limit
    }
}

extension WhatsAppTemplateCall {
    var json: String {
        JSONValue.object([
            ("name", .string(name)), ("language", .string(language)),
            ("parameters", .array(parameters.map(JSONValue.string))),
        ]).serialized()
    }

    init?(json: String?) {
        guard let json, let value = try? JSONParser.parse(Array(json.utf8)), case .string(let name)? = value["name"],
            case .string(let language)? = value["language"]
        else { return nil }
        let parameters = value["parameters"]?.arrayValue?.compactMap(\.scalarText) ?? []
        self.init(name: name, language: language, parameters: parameters)
    }
}

/// How a send attempt left a message.
public struct DeliveryUpdate: Sendable {
    public var state: OutboxMessage.State
    public var nextAttemptAt: Date?
    public var lastError: String?
    public var providerMessageID: String?
    /// A new channel (WhatsApp → SMS fallback), when it changes.
    public var channel: String?
    /// The recipient, when it was resolved at sending (a rule's `to` whose variable was unset).
    public var recipient: String?
    /// A number to put on the suppression list in the same transaction (the provider said the
    /// recipient opted out).
    public var suppression: Suppression?

    public init(
        state: OutboxMessage.State, nextAttemptAt: Date? = nil, lastError: String? = nil,
        providerMessageID: String? = nil, channel: String? = nil, recipient: String? = nil,
        suppression: Suppression? = nil
    ) {
        self.suppression = suppression
        self.state = state
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.providerMessageID = providerMessageID
        self.channel = channel
        self.recipient = recipient
    }
}

/// The outbox: messages the processor queued, claimed by dispatchers under a lease and closed by
/// the outcome recorded for them.
///
/// Nothing assumes one process: a claim hands back rows leased to the caller (another claim
/// skips them until the lease ends, then takes them back as `recovered`), and outcomes are
/// recorded by message id.
public protocol OutboxStore: Sendable {
    /// Claims up to `limit` due messages under a lease: pending ones whose time has come, and
    /// `sending` ones whose lease expired (a dispatcher died mid-send; `recovered` is true for
    /// those: their outcome is unknown). Each comes back `sending`, its attempt counted.
    func claimDue(now: Date, limit: Int, lease: TimeInterval) async throws
        -> [(message: OutboxMessage, recovered: Bool)]
    /// Claims up to `limit` `unknown` messages whose lookup is due, by moving their next lookup a
    /// lease away (a dispatcher that dies mid-lookup leaves them to the next one then); they stay
    /// `unknown` until the lookup's outcome is recorded.
    func claimLookups(now: Date, limit: Int, lease: TimeInterval) async throws -> [OutboxMessage]
    /// Records a batch of send outcomes in one transaction, with the suppressions they carry; a
    /// refunded attempt is given back.
    func record(_ updates: [(messageID: Int64, update: DeliveryUpdate, refundAttempt: Bool)], at now: Date)
        async throws
    /// `herald retry`: puts failed or held messages back in the queue, keeping their key.
    /// Returns the ids released (sent and pending ones are left alone). An `unknown` message (it
    /// may have gone out) is released only with `force`, on the operator's word.
    func release(ids: [Int64], at now: Date, force: Bool) async throws -> [Int64]
    /// `herald retry` of a message that failed before it had a text: stores what planning it again
    /// gave (text, locale, encoding, WhatsApp template call, and the reason when it failed again),
    /// leaving its key. Only a `failed` message changes; returns whether it did.
    @discardableResult
    func replan(id: Int64, with message: OutboxMessage) async throws -> Bool
    /// The outbox, most recent first.
    func messages(_ query: MessageQuery) async throws -> [OutboxMessage]
}

extension OutboxStore {
    /// Records how a send attempt ended.
    public func record(_ update: DeliveryUpdate, messageID: Int64, at now: Date, refundAttempt: Bool = false)
        async throws
    {
        try await record([(messageID, update, refundAttempt)], at: now)
    }

    /// `release` of messages that failed or are held (never `unknown` ones).
    public func release(ids: [Int64], at now: Date) async throws -> [Int64] {
        try await release(ids: ids, at: now, force: false)
    }
}
