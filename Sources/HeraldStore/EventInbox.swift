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
    /// Why the body is not JSON; the processor finds every other problem.
    public var parseError: String?

    public init(
        provider: String, dedupeKey: String, deliveryID: String? = nil, receivedAt: Date, remoteAddress: String? = nil,
        headers: [HeaderField], body: [UInt8], eventName: String? = nil, orderReference: String? = nil,
        status: String? = nil, parseError: String? = nil
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
        self.parseError = parseError
    }
}

extension IncomingEvent {
    /// The event intake stores for a verified webhook: its keys (`ProviderProfile.intakeKeys`),
    /// the raw body and the headers; the processor normalizes it and decides its order's state.
    public init(request: WebhookRequest, keys: IntakeKeys, profile: ProviderProfile) {
        let secretHeaders = profile.verification.scheme.secretHeaders
        let headers = request.headers.map { field in
            secretHeaders.contains(where: { $0.caseInsensitiveCompare(field.name) == .orderedSame })
                ? HeaderField(name: field.name, value: "[redacted]") : field
        }
        self.init(
            provider: profile.name, dedupeKey: keys.dedupeKey, deliveryID: keys.deliveryID,
            receivedAt: request.receivedAt, remoteAddress: request.remoteAddress, headers: headers, body: request.body,
            eventName: keys.eventName, orderReference: keys.orderReference, status: keys.status,
            parseError: keys.parseError)
    }

    /// The same, reading the keys from `request`.
    public init(request: WebhookRequest, profile: ProviderProfile) {
        self.init(request: request, keys: profile.intakeKeys(request), profile: profile)
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

    public init(id: Int64) { self.id = id }
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
    /// The values the event lacked and took from its order's state when it was decided (applied
    /// again by `herald retry`: the order may have moved on since).
    public var inherited: [RememberedValue] = []
    /// When `herald prune` or `herald forget` deleted its body (its keys and times stay).
    public var redactedAt: Date? = nil
    /// Stored by intake and not processed yet: its previous status, staleness, inherited values,
    /// occurrence time and field problems are still to be decided, with its order's state, by the
    /// processor. False for an event a version before it decided at intake.
    public var undecided: Bool = false
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
/// duplicates in the transaction that stores the event; the processor decides the order state,
/// which `completeProcessing` stores with the event's messages.
public protocol EventInbox: Sendable {
    /// Stores the event durably (committed when this returns), undecided, or reports it as a duplicate.
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
    /// re-processing after a crash, a redelivery or a replay yields no second message), stores
    /// what processing decided for an undecided event and its order (unless another process
    /// completed it meanwhile), and marks the events processed, in one transaction; returns, per
    /// event, whether each of its messages was inserted (false: its idempotency key was already in
    /// the outbox).
    func completeProcessing(_ batch: [EventCompletion], at now: Date) async throws -> [[Bool]]
}

extension EventInbox {
    /// `completeProcessing` of events whose order states need nothing stored.
    public func completeProcessing(
        _ batch: [(eventID: Int64, messages: [OutboxMessage])], at now: Date
    ) async throws -> [[Bool]] {
        try await completeProcessing(batch.map { EventCompletion(eventID: $0.eventID, messages: $0.messages) }, at: now)
    }

    /// `completeProcessing` of one event; returns the number of messages inserted.
    @discardableResult
    public func completeProcessing(eventID: Int64, messages: [OutboxMessage], at now: Date) async throws -> Int {
        try await completeProcessing([(eventID, messages)], at: now)[0].filter { $0 }.count
    }
}
