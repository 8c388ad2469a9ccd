import Foundation
import HeraldCore
import HeraldStore
import Logging

extension EventProcessor {
    /// The claimed events normalized and decided (`PreparedEvent`), with a line for each that
    /// cannot be used, has unreadable values, or is stale, and for each of a provider no longer
    /// in the rules.
    func prepare(_ events: [StoredEvent]) async throws -> [PreparedEvent] {
        let prepared = try await PreparedEvent.prepare(events, orders: store, profile: ruleSet.provider(named:))
        for event in prepared {
            let stored = event.stored
            guard ruleSet.provider(named: stored.provider) != nil else {
                logger.warning(
                    "event of a provider no longer in the rules", metadata: ["herald.provider": "\(stored.provider)"])
                continue
            }
            guard let decision = event.decision else { continue }
            var details: Logger.Metadata = [
                "herald.provider": "\(stored.provider)", "herald.event_id": "\(stored.id)",
                "herald.order": "\(stored.orderReference ?? "-")",
            ]
            if let parseError = decision.parseError {
                details["herald.parse_error"] = "\(LogSafe.redactingPhones(parseError))"
                logger.warning("event cannot be used: no messages", metadata: details)
            } else if let problems = decision.fieldProblems {
                details["herald.unreadable"] = "\(LogSafe.redactingPhones(problems))"
                logger.warning("event has unreadable values", metadata: details)
            } else if decision.stale {
                details["herald.status"] = "\(decision.status ?? "-")"
                logger.info("stale event: older than its order's known state, no messages", metadata: details)
            }
        }
        return prepared
    }
}
