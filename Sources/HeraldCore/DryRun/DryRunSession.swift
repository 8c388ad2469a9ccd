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

    /// Failing verification: the worker answers 401 and stores nothing, so no message is listed
    /// (the rules are still evaluated and shown).
    public var refused: Bool { verification == .failed }

    /// Whether this input makes the run exit 1: unreadable, unparseable or failing verification,
    /// or a message that would fail.
    public var failed: Bool {
        !errors.isEmpty || verification == .failed || messages.contains { $0.outcome == .failed }
    }
}

public struct DryRunMessage: Sendable {
    /// What the worker would do with the message, as the processor and dispatcher decide it.
    public enum Outcome: String, Sendable, CaseIterable {
        /// Sent now.
        case send
        /// An earlier input (or the `--db` outbox) already yielded its idempotency key.
        case duplicate
        /// The recipient is on the suppression list (opted out).
        case suppressed
        /// Quiet hours: queued until `deferred_until`.
        case deferred
        /// Kept until `herald retry` releases it: the recipient's variable or the channel's
        /// credentials are unset.
        case held
        /// No recipient, an invalid number or a missing value: the message fails.
        case failed
    }

    public var planned: PlannedMessage
    /// An earlier input that already yielded this idempotency key: the worker would not send it again.
    public var duplicateOf: String?
    public var outcome: Outcome
    /// Why it is held (`recipient ${MERCHANT_PHONE} not set`, `channel 'sms' credentials not set: …`).
    public var heldBecause: String?
    /// Why the recipient is on the live store's suppression list (`--db`): the worker would keep
    /// the message as `suppressed` and send nothing.
    public var suppressed: String?

    /// Decides the outcome the way `EventProcessor` and the dispatcher do: a duplicate is not
    /// stored; a failed message stays failed; a suppressed number gets nothing; then held, then
    /// deferred.
    init(planned: PlannedMessage, duplicateOf: String?, suppressed: String?, channels: [RuleSet.Channel]) {
        self.planned = planned
        self.duplicateOf = duplicateOf
        let disposition = planned.message.disposition(channels: channels)
        if duplicateOf != nil {
            outcome = .duplicate
        } else if disposition == .failed {
            outcome = .failed
        } else if let suppressed {
            outcome = .suppressed
            self.suppressed = suppressed
        } else if case .held(let reason) = disposition {
            outcome = .held
            heldBecause = reason
        } else if planned.deferredUntil != nil {
            outcome = .deferred
        } else {
            outcome = .send
        }
    }
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
        let normalized = profile.normalize(request, parsedBody: input.parsedBody)
        if let problem = normalized.parseError { result.errors.append(problem) }
        guard var event = normalized.event else { return result }
        if result.refused {
            // The worker answers 401 and keeps nothing: no order state, no dedupe key, no message.
            // The rules are evaluated against what the order state says now, to show what it would do.
            if let reference = event.order.reference, normalized.parseError == nil {
                let known = orders[input.provider + "\u{1F}" + reference]
                let source = ValueSource(from: input.name, event: event.event)
                event = OrderDecision.decide(event, profile: profile, known: known, source: source).event
            }
            result.event = event
            guard normalized.parseError == nil else { return result }
            // The verdicts alone: rendering messages that are not listed would be wasted.
            result.rules = ruleSet.evaluate(event)
            return result
        }

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
            let suppressed = suppression(of: planned.message.to, channel: planned.message.channel)
            result.messages.append(
                DryRunMessage(
                    planned: planned, duplicateOf: duplicateOf, suppressed: suppressed, channels: ruleSet.channels))
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
    /// Inputs the worker would take as redeliveries of earlier ones (nothing new is stored).
    public var duplicates = 0
    /// Inputs older than their order's known status (nothing is sent).
    public var stale = 0
    /// Messages that would be sent now.
    public var messages = 0
    /// Messages that would not be sent now, by outcome (every outcome but `send`).
    public var notSent: [DryRunMessage.Outcome: Int] = [:]
    /// SMS segments of the messages that would be sent now.
    public var segments = 0
    public var byChannelAndLocale: [String: Int] = [:]

    mutating func add(_ result: DryRunResult) {
        inputs += 1
        if result.verification == .ok { verified += 1 }
        if result.verification == .failed { verificationFailed += 1 }
        if !result.errors.isEmpty || result.refused { failedInputs += 1 }
        if result.duplicateOf != nil { duplicates += 1 }
        if result.stale { stale += 1 }
        for message in result.messages {
            guard message.outcome == .send else {
                notSent[message.outcome, default: 0] += 1
                continue
            }
            messages += 1
            segments += message.planned.message.encoding?.segments ?? 0
            byChannelAndLocale["\(message.planned.message.channel)/\(message.planned.message.locale)", default: 0] += 1
        }
    }

    /// Messages that would fail: the run exits 1.
    public var failedMessages: Int { notSent[.failed] ?? 0 }
}
