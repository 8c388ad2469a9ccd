/// How one rule fared against one event.
public struct RuleResult: Sendable, Equatable {
    public var id: String
    public var matched: Bool
    /// Why it did not match: the first failing condition, in words. Nil when it matched.
    public var reason: String?

    public init(id: String, matched: Bool, reason: String?) {
        self.id = id
        self.matched = matched
        self.reason = reason
    }
}

extension When {
    /// Whether the event satisfies every condition: the hot path, with no explanation built.
    public func matches(_ event: CanonicalEvent) -> Bool {
        if let providers, !providers.contains(event.provider) { return false }
        if let events {
            guard let name = event.event, events.contains(name) else { return false }
        }
        if let sandbox, sandbox != event.sandbox { return false }
        if let transition {
            if let from = transition.fromSet {
                guard let previous = event.order.previousStatus, from.contains(previous) else { return false }
            }
            if let to = transition.toSet {
                guard let status = event.order.status, to.contains(status) else { return false }
            }
        }
        if let predicate, !predicate.holds(on: event) { return false }
        return true
    }

    /// Nil when the event satisfies every condition; otherwise the first that fails, in words.
    public func failure(on event: CanonicalEvent) -> String? {
        if let providers, !providers.contains(event.provider) {
            return "provider: wanted \(providersText ?? Self.describe(providers)), got \(event.provider)"
        }
        if let events {
            guard let name = event.event, events.contains(name) else {
                return "event: wanted \(eventsText ?? Self.describe(events)), got \(event.event ?? "none")"
            }
        }
        if let sandbox, sandbox != event.sandbox {
            return "sandbox: wanted \(sandbox), got \(event.sandbox)"
        }
        if let transition {
            let fromOK = transition.fromSet.map { set in event.order.previousStatus.map(set.contains) ?? false } ?? true
            let toOK = transition.toSet.map { set in event.order.status.map(set.contains) ?? false } ?? true
            if !fromOK || !toOK {
                let got = "\(event.order.previousStatus ?? "?")→\(event.order.status ?? "?")"
                return "transition: wanted \(transition.description), got \(got)"
            }
        }
        if let predicate, let reason = predicate.failure(on: event) {
            return "where: \(reason)"
        }
        return nil
    }

    static func describe(_ values: Set<String>) -> String {
        values.count == 1 ? values.first! : "one of [\(values.sorted().joined(separator: ", "))]"
    }
}

extension RuleSet {
    /// Every rule in order, matched or not (with the reason), honouring `stop: true`.
    public func evaluate(_ event: CanonicalEvent) -> [RuleResult] {
        var results: [RuleResult] = []
        results.reserveCapacity(rules.count)
        var stoppedBy: String?
        for rule in rules {
            if let stoppedBy {
                let reason = "stopped by earlier rule '\(stoppedBy)'"
                results.append(RuleResult(id: rule.id, matched: false, reason: reason))
                continue
            }
            if !rule.when.matches(event) {
                let reason = rule.when.failure(on: event) ?? "no match"
                results.append(RuleResult(id: rule.id, matched: false, reason: reason))
            } else {
                results.append(RuleResult(id: rule.id, matched: true, reason: nil))
                if rule.stop { stoppedBy = rule.id }
            }
        }
        return results
    }

    /// The rules that fire for `event`, in order.
    public func matchingRules(_ event: CanonicalEvent) -> [Rule] {
        var matched: [Rule] = []
        for rule in rules where rule.when.matches(event) {
            matched.append(rule)
            if rule.stop { break }
        }
        return matched
    }
}
