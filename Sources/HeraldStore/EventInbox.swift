import Foundation
import HeraldCore

/// A verified webhook on its way into the store, with what intake could read of it.
public struct IncomingEvent: Sendable {
    public var provider: String
    public var dedupeKey: String
    public var deliveryID: String?
    public var receivedAt: Date
    public var remoteAddress: String?
    /// Raw headers, with the values of secret-bearing headers already redacted.
    public var headers: [HeaderField]
    /// The body exactly as received.
    public var body: [UInt8]
    public var eventName: String?
    public var orderReference: String?
    public var status: String?
    /// The previous status when the payload states it; otherwise the store fills it from the order state.
    public var previousStatus: String?
    public var occurredAt: Date?
    public var parseError: String?
    /// Values that could not be read in a usable event (`order.amount '12abc' is not a readable number: …`).
    public var fieldProblems: String?
    /// The normalized event and its provider, from which the store decides the order's state
    /// (`OrderDecision`); without them the event is stored and the order state left alone.
    public var event: CanonicalEvent?
    public var profile: ProviderProfile?

    public init(
        provider: String, dedupeKey: String, deliveryID: String? = nil, receivedAt: Date, remoteAddress: String? = nil,
        headers: [HeaderField], body: [UInt8], eventName: String? = nil, orderReference: String? = nil,
        status: String? = nil, previousStatus: String? = nil, occurredAt: Date? = nil, parseError: String? = nil,
        fieldProblems: String? = nil,
        event: CanonicalEvent? = nil, profile: ProviderProfile? = nil
    ) {
        self.provider = provider
        self.dedupeKey = dedupeKey
        self.deliveryID = deliveryID
        self.receivedAt = receivedAt
        self.remoteAddress = remoteAddress
        self.headers = headers
        self.body = body
        self.eventName = eventName
        self.orderReference = orderReference
        self.status = status
        self.previousStatus = previousStatus
        self.occurredAt = occurredAt
        self.parseError = parseError
        self.fieldProblems = fieldProblems
        self.event = event
        self.profile = profile
    }
}

extension IncomingEvent {
    /// The event intake stores for a normalized webhook.
    public init(request: WebhookRequest, normalized: NormalizedWebhook, profile: ProviderProfile) {
        let secretHeaders = profile.verification.scheme.secretHeaders
        let headers = request.headers.map { field in
            secretHeaders.contains(where: { $0.caseInsensitiveCompare(field.name) == .orderedSame })
                ? HeaderField(name: field.name, value: "[redacted]") : field
        }
        let event = normalized.event
        self.init(
            provider: profile.name, dedupeKey: normalized.dedupeKey, deliveryID: normalized.deliveryID,
            receivedAt: request.receivedAt, remoteAddress: request.remoteAddress, headers: headers, body: request.body,
            eventName: event?.event, orderReference: event?.order.reference, status: event?.order.status,
            previousStatus: event?.order.previousStatus, occurredAt: event?.occurredAt,
            parseError: normalized.parseError, fieldProblems: normalized.fieldProblems, event: event, profile: profile)
    }
}

/// What the store did with an incoming event.
public enum RecordOutcome: Sendable, Equatable {
    /// Newly stored and on disk.
    case accepted(StoredEventSummary)
    /// Seen before under the same dedupe key: nothing new stored.
    case duplicate(id: Int64)
}

public struct StoredEventSummary: Sendable, Equatable {
    public var id: Int64
    /// From the payload, or the order's last known status.
    public var previousStatus: String?
    /// Older than the order's known state: kept, but it moves nothing.
    public var stale: Bool
}

/// An event as kept in the store.
public struct StoredEvent: Sendable {
    public var id: Int64
    public var provider: String
    public var dedupeKey: String
    public var deliveryID: String?
    public var receivedAt: Date
    public var remoteAddress: String?
    public var headers: [HeaderField]
    public var body: [UInt8]
    public var eventName: String?
    public var orderReference: String?
    public var status: String?
    public var previousStatus: String?
    public var occurredAt: Date?
    /// Why the event could not be used at all; it yields no messages.
    public var parseError: String?
    /// Values that could not be read although the event was used; messages printing them failed.
    public var fieldProblems: String?
    public var stale: Bool
    /// How many times the provider delivered it (1 + redeliveries).
    public var deliveries: Int
    public var processedAt: Date?
    /// The values the event lacked and took from its order's state when it was stored (the
    /// processor applies them again: the order may have moved on by the time it runs).
    public var inherited: [RememberedValue] = []
    /// When `herald prune` or `herald forget` deleted its body (its keys and times stay).
    public var redactedAt: Date? = nil
}

public struct EventQuery: Sendable {
    public var provider: String?
    /// Only events whose body could not be used, or had values that could not be read.
    public var failedOnly: Bool
    public var limit: Int

    public init(provider: String? = nil, failedOnly: Bool = false, limit: Int = 100) {
        self.provider = provider
        self.failedOnly = failedOnly
        self.limit = limit
    }
}

/// Where verified webhooks wait to be processed: intake records them (deduplicated per provider
/// and dedupe key), the processor takes the unprocessed ones in arrival order and completes each
/// with its outbox messages.
///
/// Every method may be called from several processes sharing one database: `record` decides
/// duplicates and the order state in the transaction that stores the event.
public protocol EventInbox: Sendable {
    /// Stores the event durably (committed when this returns) or reports it as a duplicate, and
    /// moves its order's state as `OrderDecision` decides.
    func record(_ event: IncomingEvent) async throws -> RecordOutcome
    /// Most recent first.
    func events(_ query: EventQuery) async throws -> [StoredEvent]
    /// Events in arrival order after `id`, for export (a page at a time, so memory stays flat).
    func eventsAfter(id: Int64, provider: String?, since: Date?, limit: Int) async throws -> [StoredEvent]
    /// One stored event by id; nil when it was pruned.
    func event(id: Int64) async throws -> StoredEvent?
    /// The events to process next, in arrival order, at most `limit`: of each order, the oldest one
    /// not processed yet (the next one waits until it is, so one order's events are processed one
    /// at a time, in the order they were committed, whichever process takes them); each event of
    /// no order on its own.
    ///
    /// On a database several processes share, the claim holds its events for `lease` seconds:
    /// another claim skips them (and the later events of their orders) until they are processed
    /// or the lease runs out (the claimer died), then takes them over. Processing an event again
    /// is harmless: `completeProcessing` never inserts an idempotency key twice. A store serves one
    /// processor, which claims one batch at a time: its own standing claims (a claim whose answer
    /// was lost) it takes again at once.
    func claimEvents(now: Date, limit: Int, lease: TimeInterval) async throws -> [StoredEvent]
    /// Inserts each event's messages into the outbox (skipping idempotency keys already there:
    /// re-processing after a crash, a redelivery or a replay yields no second message) and marks
    /// the events processed, in one transaction; returns, per event, whether each of its messages
    /// was inserted (false: its idempotency key was already in the outbox).
    func completeProcessing(
        _ batch: [(eventID: Int64, messages: [OutboxMessage])], at now: Date
    ) async throws -> [[Bool]]
}

extension EventInbox {
    /// `completeProcessing` of one event; returns the number of messages inserted.
    @discardableResult
    public func completeProcessing(eventID: Int64, messages: [OutboxMessage], at now: Date) async throws -> Int {
        try await completeProcessing([(eventID, messages)], at: now)[0].filter { $0 }.count
    }
}
