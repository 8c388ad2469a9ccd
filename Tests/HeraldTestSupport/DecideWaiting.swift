import Foundation
import HeraldCore
import HeraldStore

extension Fixtures {
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
