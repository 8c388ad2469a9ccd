import Foundation

/// A message an event yields, with when it may go out.
public struct PlannedMessage: Sendable, Equatable {
    public var message: RenderedMessage
    /// Set when quiet hours apply: the end of the window in the recipient's time zone.
    public var deferredUntil: Date?
}

/// What one event yields: every rule's verdict and the messages of those that matched.
public struct Plan: Sendable {
    public var rules: [RuleResult]
    public var messages: [PlannedMessage]
}

/// normalize → rules → render, the pure core shared by `herald dry-run` and the worker.
public struct Planner: Sendable {
    public var ruleSet: RuleSet
    public var renderer: MessageRenderer

    public init(ruleSet: RuleSet, templates: TemplateStore, formatters: Formatters = Formatters()) {
        self.ruleSet = ruleSet
        self.renderer = MessageRenderer(ruleSet: ruleSet, templates: templates, formatters: formatters)
    }

    /// The plan for `event` at `now` (for quiet hours). `localeOverride` forces every message's locale.
    public func plan(_ event: CanonicalEvent, now: Date, localeOverride: String? = nil) -> Plan {
        let results = ruleSet.evaluate(event)
        var messages: [PlannedMessage] = []
        for (rule, result) in zip(ruleSet.rules, results) where result.matched {
            var rule = rule
            if let localeOverride { rule.send?.locale = localeOverride }
            if let send = rule.send, let fallback = Self.fallback(for: send, in: ruleSet) {
                rule.send?.channel = fallback
            }
            guard let message = renderer.render(rule, event: event) else { continue }
            var deferred: Date?
            if let quiet = ruleSet.defaults.quietHours {
                let zone = message.to.flatMap(PhoneNumber.timeZone(of:))
                    ?? ruleSet.provider(named: event.provider)?.timeZone ?? ruleSet.defaults.timeZone
                deferred = quiet.deferral(at: now, timeZone: zone)
            }
            messages.append(PlannedMessage(message: message, deferredUntil: deferred))
        }
        return Plan(rules: results, messages: messages)
    }

    /// The channel a rule's message goes on instead of its own, decided when it is planned: its
    /// `fallback`, when its channel cannot send (credentials unset) and the fallback can. So one
    /// message exists, keyed by the channel it really uses, and none is left held.
    public static func fallback(for send: Send, in ruleSet: RuleSet) -> String? {
        guard let fallback = send.fallback, fallback != send.channel,
            let channel = ruleSet.channel(named: send.channel), !channel.canSend,
            ruleSet.channel(named: fallback)?.canSend == true
        else { return nil }
        return fallback
    }
}
