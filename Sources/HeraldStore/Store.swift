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

/// Where Herald keeps events and order state. SQLite is the embedded default; the protocol lets
/// a shared database serve several instances later.
public protocol Store: Sendable {
    /// Stores the event durably (on disk when this returns) or reports it as a duplicate.
    func record(_ event: IncomingEvent) async throws -> RecordOutcome
    /// Succeeds when the store can answer queries.
    func ping() async throws
    /// Most recent first.
    func events(_ query: EventQuery) async throws -> [StoredEvent]
    func orderState(provider: String, reference: String) async throws -> OrderState?
    /// Verified events not processed yet, in arrival order.
    func unprocessedEvents(limit: Int) async throws -> [StoredEvent]
    /// Inserts an event's messages (skipping known idempotency keys) and marks it processed, atomically.
    @discardableResult
    func completeProcessing(eventID: Int64, messages: [OutboxMessage], at now: Date) async throws -> Int
    /// The same for several events in one transaction; per event, whether each message was inserted.
    func completeProcessing(
        _ batch: [(eventID: Int64, messages: [OutboxMessage])], at now: Date
    ) async throws -> [[Bool]]
    /// The outbox, most recent first.
    func messages(_ query: MessageQuery) async throws -> [OutboxMessage]
    /// Finishes pending writes and releases the database.
    func close() async throws

    // Suppressions: the numbers Herald sends nothing to.

    /// Puts `entry` on the list; returns false when the number was already on it for that scope.
    /// An operator's entry replaces the one there (an opt-in reply never lifts it); any other
    /// entry leaves an existing one as it is.
    @discardableResult
    func addSuppression(_ entry: Suppression) async throws -> Bool
    /// Takes the number's entries for `scope` (all of them when nil) off the list and returns them.
    @discardableResult
    func removeSuppressions(number: String, scope: Suppression.Scope?) async throws -> [Suppression]
    /// The list, newest first; only the entries of `numbers` when given.
    func suppressions(numbers: [String]?) async throws -> [Suppression]
    /// The entry that stops a message to `number` on `channel`, nil when it may be sent.
    func suppression(for number: String, channel: String) async throws -> Suppression?
}

extension Store {
    /// Whether a message to `number` on `channel` must not be sent.
    public func isSuppressed(_ number: String, channel: String) async throws -> Bool {
        try await suppression(for: number, channel: channel) != nil
    }
}

public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }

    public static let closed = StoreError("the store is closed")
}
