import Foundation

/// What dry-run found for one input.
public struct DryRunResult: Sendable {
    public enum Verification: String, Sendable {
        case ok, failed, skipped
    }

    public var input: String
    public var provider: String?
    public var verification: Verification
    public var event: CanonicalEvent?
    /// The input the live worker would have taken this one as a redelivery of.
    public var duplicateOf: String?
    /// Older than the order state: the worker would store it and send nothing.
    public var stale: Bool
    /// The values the event took from earlier events of its order, each with the input it came from.
    public var inherited: [RememberedValue] = []
    public var rules: [RuleResult]
    public var messages: [DryRunMessage]
    public var errors: [String]

    /// An input that could not be read at all.
    public static func unreadable(_ input: String, _ error: String) -> DryRunResult {
        DryRunResult(
            input: input, provider: nil, verification: .skipped, event: nil, duplicateOf: nil, stale: false, rules: [],
            messages: [], errors: [error])
    }

    /// Whether this input makes the run exit 1: unreadable, unparseable or failing verification.
    public var failed: Bool { !errors.isEmpty || verification == .failed }
}

public struct DryRunMessage: Sendable {
    public var planned: PlannedMessage
    /// An earlier input that already yielded this idempotency key: the worker would not send it again.
    public var duplicateOf: String?
    /// Why the recipient is on the live store's suppression list (`--db`): the worker would keep
    /// the message as `suppressed` and send nothing.
    public var suppressed: String? = nil
}

/// Runs captured webhooks through the pure core in order, with an in-memory order state and
/// outbox, so a captured day shows the transitions, duplicates and stale events the worker would
/// see. Nothing is written anywhere.
public final class DryRunSession {
    public let ruleSet: RuleSet
    public let planner: Planner
    /// The moment quiet hours are judged at (`--now`); nil: each event's received time, else the clock.
    public let now: Date?
    public let localeOverride: String?

    private var orders: [String: OrderState] = [:]
    private var seenEvents: [String: String] = [:]
    private var seenKeys: [String: String] = [:]
    /// E.164 → the entries of the live suppression list: (channel, nil for every channel; reason).
    private var suppressions: [String: [(channel: String?, reason: String)]] = [:]
    public private(set) var summary = DryRunSummary()

    public init(ruleSet: RuleSet, templates: TemplateStore, now: Date?, localeOverride: String? = nil) {
        self.ruleSet = ruleSet
        self.planner = Planner(ruleSet: ruleSet, templates: templates)
        self.now = now
        self.localeOverride = localeOverride
    }

    /// Starts from a live store's order state (`--db`): its status and the values it remembers.
    public func knowOrder(_ state: OrderState) {
        orders[state.provider + "\u{1F}" + state.reference] = state
    }

    /// Starts from a live store's outbox (`--db`): these keys were already sent or queued.
    public func knowMessage(idempotencyKey: String, source: String) {
        seenKeys[idempotencyKey] = source
    }

    /// Starts from a live store's suppression list (`--db`): nothing is sent to `number` on
    /// `channel` (every channel when nil).
    public func knowSuppression(number: String, channel: String?, reason: String) {
        suppressions[number, default: []].append((channel, reason))
    }

    /// Why a message to `number` on `channel` would be suppressed, nil when it would go.
    func suppression(of number: String?, channel: String) -> String? {
        guard let number, let entries = suppressions[number] else { return nil }
        return entries.first { $0.channel == nil || $0.channel == channel }?.reason
    }

    /// An input that could not be read or decoded; counted in the summary.
    public func unreadable(_ name: String, _ error: String) -> DryRunResult {
        let result = DryRunResult.unreadable(name, error)
        summary.add(result)
        return result
    }

    public func process(_ input: CapturedInput) -> DryRunResult {
        var result = DryRunResult(
            input: input.name, provider: input.provider, verification: .skipped, event: nil, duplicateOf: nil,
            stale: false, rules: [], messages: [], errors: [])
        defer { summary.add(result) }
        guard let profile = ruleSet.provider(named: input.provider) else {
            var message = "provider '\(input.provider)' is not in the rules"
            if let suggestion = Suggestion.closest(to: input.provider, in: ruleSet.providers.map(\.name)) {
                message += "; did you mean '\(suggestion)'?"
            }
            result.errors.append(message)
            return result
        }
        let receivedAt = input.receivedAt ?? now ?? Date()
        let request = WebhookRequest(
            provider: input.provider, headers: input.headers, body: input.body, receivedAt: receivedAt)
        if input.isEnvelope {
            switch profile.verification.verify(request, now: receivedAt) {
            case .verified: result.verification = .ok
            case .unconfigured: result.verification = .skipped
            case .rejected(let reason):
                // A header-token value that export redacted cannot be checked again.
                if profile.verification.scheme.secretHeaders.contains(where: { request.header($0) == "[redacted]" }) {
                    result.verification = .skipped
                } else {
                    result.verification = .failed
                    result.errors.append("verification: \(reason)")
                }
            }
        }
        let normalized = profile.normalize(request)
        if let problem = normalized.parseError { result.errors.append(problem) }
        guard var event = normalized.event else { return result }

        // Redeliveries: the same dedupe key as an earlier input.
        let eventKey = input.provider + "\u{1F}" + normalized.dedupeKey
        if let first = seenEvents[eventKey] {
            result.duplicateOf = first
            result.event = event
            return result
        }
        seenEvents[eventKey] = input.name

        // Order state: staleness, previous status and inherited values, as the store decides them.
        if let reference = event.order.reference, normalized.parseError == nil {
            let key = input.provider + "\u{1F}" + reference
            let decision = OrderDecision.decide(
                event, profile: profile, known: orders[key], source: ValueSource(from: input.name, event: event.event))
            if let state = decision.newState { orders[key] = state }
            event = decision.event
            result.inherited = decision.inherited
            if decision.stale {
                result.stale = true
                result.event = event
                return result
            }
        }
        result.event = event
        guard normalized.parseError == nil else { return result }

        let plan = planner.plan(event, now: now ?? receivedAt, localeOverride: localeOverride)
        result.rules = plan.rules
        for planned in plan.messages {
            var duplicateOf: String?
            if let key = planned.message.idempotencyKey {
                if let first = seenKeys[key] { duplicateOf = first } else { seenKeys[key] = input.name }
            }
            var message = DryRunMessage(planned: planned, duplicateOf: duplicateOf)
            // As the processor decides: a message that fails stays failed, a duplicate is not stored.
            if duplicateOf == nil, planned.message.problems.isEmpty {
                message.suppressed = suppression(of: planned.message.to, channel: planned.message.channel)
            }
            result.messages.append(message)
        }
        return result
    }
}

/// Counts for the end of a text run.
public struct DryRunSummary: Sendable {
    public var inputs = 0
    public var verified = 0
    public var verificationFailed = 0
    public var failedInputs = 0
    public var duplicates = 0
    public var stale = 0
    public var messages = 0
    public var suppressed = 0
    /// Messages to numbers on the suppression list (`--db`): not sent.
    public var optedOut = 0
    public var segments = 0
    public var byChannelAndLocale: [String: Int] = [:]

    mutating func add(_ result: DryRunResult) {
        inputs += 1
        if result.verification == .ok { verified += 1 }
        if result.verification == .failed { verificationFailed += 1 }
        if result.failed { failedInputs += 1 }
        if result.duplicateOf != nil { duplicates += 1 }
        if result.stale { stale += 1 }
        for message in result.messages {
            if message.duplicateOf != nil {
                suppressed += 1
                continue
            }
            if message.suppressed != nil {
                optedOut += 1
                continue
            }
            messages += 1
            segments += message.planned.message.encoding?.segments ?? 0
            byChannelAndLocale["\(message.planned.message.channel)/\(message.planned.message.locale)", default: 0] += 1
        }
    }
}
