import Foundation
import HeraldCore

/// What processing one claimed event settled, for `completeProcessing` to store in one transaction.
public struct EventCompletion: Sendable {
    public var eventID: Int64
    /// Its outbox messages (none for an unusable or stale event).
    public var messages: [OutboxMessage]
    /// For an event intake left undecided: what normalizing it and its order's state decided.
    /// Nil for an event decided before (at intake, by an earlier version) or of a provider no
    /// longer in the rules: its columns and its order stay as they are.
    public var decision: EventDecision?

    public init(eventID: Int64, messages: [OutboxMessage], decision: EventDecision? = nil) {
        self.eventID = eventID
        self.messages = messages
        self.decision = decision
    }
}

/// What the processor decided for an event intake stored undecided: the columns normalization
/// fills (as `herald events` shows them) and, through `OrderDecision`, its place in its order.
public struct EventDecision: Sendable, Equatable {
    public var eventName: String?
    public var status: String?
    /// From the payload, or the order's last known status.
    public var previousStatus: String?
    public var occurredAt: Date?
    /// Why the event cannot be used at all; it yields no messages.
    public var parseError: String?
    /// Values that could not be read although the event is usable.
    public var fieldProblems: String?
    /// Older than the order's known state: kept, but it moves nothing and sends nothing.
    public var stale: Bool
    /// The values the event lacked and took from its order.
    public var inherited: [RememberedValue]
    /// The order's state to store, its `eventID` set; nil leaves the stored one as it is.
    public var order: OrderState?

    public init(
        eventName: String? = nil, status: String? = nil, previousStatus: String? = nil, occurredAt: Date? = nil,
        parseError: String? = nil, fieldProblems: String? = nil, stale: Bool = false,
        inherited: [RememberedValue] = [], order: OrderState? = nil
    ) {
        self.eventName = eventName
        self.status = status
        self.previousStatus = previousStatus
        self.occurredAt = occurredAt
        self.parseError = parseError
        self.fieldProblems = fieldProblems
        self.stale = stale
        self.inherited = inherited
        self.order = order
    }

    /// Decides for event `id`, `normalized` with `profile`, given its order's `known` state (nil
    /// for the order's first event); also returns the event the rules see, nil when the event
    /// yields no messages (unusable or stale). The order part is `OrderDecision`'s.
    public static func decide(
        id: Int64, normalized: NormalizedWebhook, profile: ProviderProfile, known: OrderState?
    ) -> (decision: EventDecision, ruleEvent: CanonicalEvent?) {
        guard let event = normalized.event else {
            return (EventDecision(parseError: normalized.parseError), nil)
        }
        var decision = EventDecision(
            eventName: event.event, status: event.order.status, previousStatus: event.order.previousStatus,
            occurredAt: event.occurredAt, parseError: normalized.parseError, fieldProblems: normalized.fieldProblems)
        guard normalized.parseError == nil else { return (decision, nil) }
        let order = OrderDecision.decide(
            event, profile: profile, known: known, source: ValueSource(from: "stored event \(id)", event: event.event))
        decision.stale = order.stale
        decision.previousStatus = order.previousStatus
        decision.inherited = order.inherited
        if var state = order.newState {
            // A status the event moves names the event; a stale one only adds values to the known state.
            if !order.stale || state.eventID == nil { state.eventID = id }
            decision.order = state
        }
        return (decision, order.stale ? nil : order.event)
    }
}
