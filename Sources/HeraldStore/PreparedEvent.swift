import Foundation
import HeraldCore

/// A claimed event ready for the rules: normalized and, when intake stored it undecided, placed
/// in its order (`EventDecision`, `OrderDecision` inside) against the order states read in one
/// query. The claims hand out one event per order at a time, in commit order, so the state read
/// is the one the event follows.
public struct PreparedEvent: Sendable {
    public var stored: StoredEvent
    /// What the rules see; nil when the event yields no messages (unusable, stale, or of a
    /// provider no longer in the rules).
    public var ruleEvent: CanonicalEvent?
    /// What `completeProcessing` stores for an undecided event; nil for one decided before.
    public var decision: EventDecision?

    /// The events of one claim, prepared in order; `profile` names each provider's profile.
    public static func prepare(
        _ events: [StoredEvent], orders: any OrderStates, profile: (String) -> ProviderProfile?
    ) async throws -> [PreparedEvent] {
        var normalized: [NormalizedWebhook?] = []
        var keys: Set<OrderKey> = []
        for stored in events {
            guard stored.undecided, let profile = profile(stored.provider) else {
                normalized.append(nil)
                continue
            }
            let webhook = profile.normalize(stored.request)
            if webhook.parseError == nil, let reference = webhook.event?.order.reference {
                keys.insert(OrderKey(provider: stored.provider, reference: reference))
            }
            normalized.append(webhook)
        }
        let known = try await orders.orderStates(of: keys)
        return zip(events, normalized).map { stored, webhook in
            guard let webhook, let profile = profile(stored.provider) else {
                return PreparedEvent(stored: stored, ruleEvent: decided(stored, profile: profile(stored.provider)))
            }
            let reference = webhook.event?.order.reference
            let (decision, ruleEvent) = EventDecision.decide(
                id: stored.id, normalized: webhook, profile: profile,
                known: reference.flatMap { known[OrderKey(provider: stored.provider, reference: $0)] })
            return PreparedEvent(stored: stored, ruleEvent: ruleEvent, decision: decision)
        }
    }

    /// What the rules see of an event decided before (at intake by an earlier version, or
    /// processed already: `herald retry`), from what was stored with it; nil when it yields nothing.
    public static func decided(_ stored: StoredEvent, profile: ProviderProfile?) -> CanonicalEvent? {
        guard stored.parseError == nil, !stored.stale, let profile else { return nil }
        guard var event = profile.normalize(stored.request).event else { return nil }
        // The previous status (Armada, Storefront send none) and the values earlier events of the
        // order gave (Elebne names the customer only in order.new), as decided then: a later event
        // that moved the order on since changes nothing here.
        if let previous = stored.previousStatus { event.order.previousStatus = previous }
        RememberedValue.apply(stored.inherited, to: &event)
        return event
    }
}

extension StoredEvent {
    /// The webhook as intake received it (secret headers redacted).
    public var request: WebhookRequest {
        WebhookRequest(
            provider: provider, headers: headers, body: body, remoteAddress: remoteAddress, receivedAt: receivedAt)
    }
}
