import Foundation

/// What one incoming event does to its order, and what the order gives the event: the one place
/// the store (SQLite now, PostgreSQL later) and dry-run decide it.
///
/// Redeliveries are not judged here: they are caught earlier, by the event's dedupe key.
public struct OrderDecision: Sendable, Equatable {
    /// Older than the known state: the event is kept, moves nothing and sends nothing.
    public var stale: Bool
    /// From the payload when the provider sends it, otherwise the order's known status (nil when stale).
    public var previousStatus: String?
    /// The values the event lacked and took from the order, each with the event it came from.
    public var inherited: [RememberedValue]
    /// The event rules should see: `previousStatus` and `inherited` applied (as received when stale).
    public var event: CanonicalEvent
    /// The order state to store; nil leaves the stored one as it is. When the event moves the
    /// status, `eventID` is nil: the store sets it to the event's own id.
    public var newState: OrderState?

    /// Decides for `event` (normalized with `profile`) given the order's `known` state, nil for a
    /// first event. `source` names the event in the values it makes the order remember.
    ///
    /// An event without a reference or a status is not an order event: nothing changes. A stale
    /// event inherits nothing and moves no status, but fills in values the order did not know
    /// (a late `order.new` still names the customer); what the order knew wins, being newer.
    /// Otherwise an absent value is inherited and a present one wins, and is remembered.
    public static func decide(
        _ event: CanonicalEvent, profile: ProviderProfile, known: OrderState?, source: ValueSource
    ) -> OrderDecision {
        guard let reference = event.order.reference, let status = event.order.status else {
            return OrderDecision(
                stale: false, previousStatus: event.order.previousStatus, inherited: [], event: event, newState: nil)
        }
        let carried = RememberedField.allCases.compactMap { field in
            field.value(in: event).map { RememberedValue(field: field, value: $0, source: source) }
        }
        guard let known else {
            let state = OrderState(
                provider: profile.name, reference: reference, status: status, occurredAt: event.occurredAt,
                remembered: carried)
            return OrderDecision(
                stale: false, previousStatus: event.order.previousStatus, inherited: [], event: event, newState: state)
        }
        let stale = profile.isStale(
            status: status, occurredAt: event.occurredAt, known: known.status, knownOccurredAt: known.occurredAt)
        if stale {
            let news = carried.filter { known.remembered($0.field) == nil }
            var state = known
            state.remembered += news
            return OrderDecision(
                stale: true, previousStatus: event.order.previousStatus, inherited: [], event: event,
                newState: news.isEmpty ? nil : state)
        }
        var enriched = event
        let previous = event.order.previousStatus ?? known.status
        enriched.order.previousStatus = previous
        var inherited = known.remembered.filter { $0.field.value(in: event) == nil }
        RememberedValue.apply(inherited, to: &enriched)
        // A currency with no amount to go with has nowhere to go: not inherited.
        inherited = inherited.filter { $0.field.value(in: enriched) != nil }
        let remembered = RememberedField.allCases.compactMap { field in
            carried.first { $0.field == field } ?? known.remembered(field)
        }
        let state = OrderState(
            provider: known.provider, reference: reference, status: status, occurredAt: event.occurredAt,
            remembered: remembered)
        return OrderDecision(
            stale: false, previousStatus: previous, inherited: inherited, event: enriched, newState: state)
    }
}
