import Foundation
import HeraldCore
import HeraldStore

/// Events recorded and processed in a store as intake and the processor would.
extension Fixtures {
    /// The id of a cod-fulfillment event of order `reference`, `old` → `new`, recorded as intake
    /// records it.
    public static func recordedEventID(
        _ store: any Store, ruleSet: RuleSet, reference: String = "ORD-1", from old: String = "shipped",
        to new: String = "delivered"
    ) async throws -> Int64 {
        guard let profile = ruleSet.provider(named: "cod-fulfillment") else {
            throw StoreError("the rules have no cod-fulfillment provider")
        }
        let request = Fixtures.request(
            provider: "cod-fulfillment", body: Fixtures.codPayload(reference: reference, from: old, to: new))
        let outcome = try await store.record(IncomingEvent(request: request, profile: profile))
        guard case .accepted(let summary) = outcome else { throw StoreError("not accepted: \(outcome)") }
        return summary.id
    }

    /// Processes every waiting event as the processor does, without messages: each claimed in
    /// turn, normalized and decided against its order's state (`PreparedEvent`), then completed.
    /// Returns what it decided, in the order it did.
    @discardableResult
    public static func decideWaiting(
        _ store: any Store, ruleSet: RuleSet, now: Date = Date(), lease: TimeInterval = 0
    ) async throws -> [PreparedEvent] {
        var all: [PreparedEvent] = []
        while true {
            let claimed = try await store.claimEvents(now: now, limit: 100, lease: lease)
            if claimed.isEmpty { return all }
            let prepared = try await PreparedEvent.prepare(claimed, orders: store, profile: ruleSet.provider(named:))
            let completions = prepared.map {
                EventCompletion(eventID: $0.stored.id, messages: [], decision: $0.decision)
            }
            _ = try await store.completeProcessing(completions, at: now)
            all += prepared
        }
    }
}
