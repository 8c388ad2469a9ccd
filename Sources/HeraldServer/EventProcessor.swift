import Foundation
import HeraldCore
import HeraldDispatch
import HeraldStore
import Logging
import Metrics
import ServiceLifecycle

/// Turns stored events into outbox messages: normalize → order state → rules → render, then one
/// transaction inserts the messages, stores the order state and marks the event processed. The
/// outbox's UNIQUE idempotency key makes processing again after a crash produce no second message.
public struct EventProcessor: Sendable {
    public var ruleSet: RuleSet
    public var planner: Planner
    public var store: any Store
    public var logger: Logger
    public var clock: @Sendable () -> Date
    /// Fetches what providers with `enrich:` leave out; nil skips enrichment.
    public var enricher: Enricher?
    /// Signalled when new events are stored (by intake); waited on when idle.
    public var wakeup = Wakeup()
    /// Signalled when messages are queued, to wake the dispatcher.
    public var messagesQueued: Wakeup?
    /// How long a claim on events holds on a shared database before another instance may take
    /// them over (this one having died); processing a batch takes far less, enrichment included.
    public var lease: TimeInterval = 60

    public init(
        ruleSet: RuleSet, templates: TemplateStore, store: any Store, logger: Logger,
        clock: @escaping @Sendable () -> Date = Date.init, enricher: Enricher? = nil
    ) {
        self.ruleSet = ruleSet
        self.planner = Planner(ruleSet: ruleSet, templates: templates)
        self.store = store
        self.logger = logger
        self.clock = clock
        self.enricher = enricher
    }

    /// Processes every event waiting (and the later events of their orders, in turn) until a
    /// claim finds none; returns how many it processed.
    @discardableResult
    public func processPending(batchSize: Int = 100) async throws -> Int {
        var total = 0
        while true {
            let processed = try await processBatch(batchSize: batchSize)
            guard processed > 0 else { return total }
            total += processed
        }
    }

    /// Processes one claim of events, oldest first, at most one event of an order (the store's
    /// claim); returns how many it processed.
    @discardableResult
    public func processBatch(batchSize: Int = 100) async throws -> Int {
        let events = try await store.claimEvents(now: clock(), limit: batchSize, lease: lease)
        guard !events.isEmpty else { return 0 }
        var batch: [EventCompletion] = []
        for prepared in try await prepare(events) {
            var messages: [OutboxMessage] = []
            if let event = prepared.ruleEvent { messages = await outboxMessages(for: prepared.stored, event: event) }
            batch.append(EventCompletion(eventID: prepared.stored.id, messages: messages, decision: prepared.decision))
        }
        batch = try await suppressing(batch)
        // One transaction (one fsync) for the whole batch.
        let inserted = try await store.completeProcessing(batch, at: clock())
        // Messages new to the outbox, by channel and the state they start in (pending, failed,
        // held or suppressed); a key already in the outbox is not counted again.
        var planned: [PlannedKey: Int] = [:]
        for (completion, flags) in zip(batch, inserted) {
            for (message, isNew) in zip(completion.messages, flags) where isNew {
                planned[PlannedKey(channel: message.channel, state: message.state.rawValue), default: 0] += 1
            }
        }
        for (key, count) in planned {
            let dimensions = [("channel", key.channel), ("state", key.state)]
            Counter(label: "herald_messages_planned_total", dimensions: dimensions).increment(by: count)
        }
        if !planned.isEmpty { messagesQueued?.signal() }
        for (completion, flags) in zip(batch, inserted) where !completion.messages.isEmpty {
            let count = flags.filter { $0 }.count
            logger.debug(
                "event processed",
                metadata: [
                    "herald.event_id": "\(completion.eventID)", "herald.messages": "\(count)",
                    "herald.already_in_outbox": "\(completion.messages.count - count)",
                ])
        }
        return events.count
    }

    /// The messages `stored` yields, `event` being what the rules see of it (normalized, its order's
    /// previous status and remembered values applied).
    func outboxMessages(for stored: StoredEvent, event: CanonicalEvent) async -> [OutboxMessage] {
        guard let profile = ruleSet.provider(named: stored.provider) else { return [] }
        var event = event
        var enrichmentProblem: String?
        if let enrichment = profile.enrichment, let enricher,
            enrichment.fields.keys.contains(where: { event.value(of: $0) == nil })
        {
            switch await enricher.fetch(for: event, with: enrichment) {
            case .enriched(let values):
                for (field, value) in values where event.value(of: field) == nil { event.set(field, value) }
            case .notFound:
                enrichmentProblem = "enrichment: the order is not found at the merchant's API"
            case .failed(let reason):
                enrichmentProblem = reason
                logger.warning(
                    "enrichment failed",
                    metadata: ["herald.provider": "\(stored.provider)", "herald.reason": "\(reason)"])
            }
        }
        let now = clock()
        let plan = planner.plan(event, now: now)
        return plan.messages.map { planned in
            let m = planned.message
            let key =
                m.idempotencyKey
                ?? IdempotencyKey.make(
                    provider: event.provider, reference: event.order.reference ?? event.event ?? "",
                    status: event.order.status ?? event.event ?? "", rule: m.rule, channel: m.channel, recipient: "")
            var state = OutboxMessage.State.pending
            var lastError: String?
            switch m.disposition(channels: ruleSet.channels) {
            case .send:
                break
            case .failed:
                state = .failed
                lastError = (m.problems + (enrichmentProblem.map { [$0] } ?? [])).joined(separator: "; ")
            case .held(let reason):
                // An unset recipient variable is resolved again by the dispatcher when `herald
                // retry` releases the message; unset credentials need a person (serve warns at
                // start-up) and are counted like the dispatcher's holds.
                state = .held
                lastError = reason
                if m.unsetTo == nil {
                    Counter(
                        label: "herald_operator_alerts_total",
                        dimensions: [("reason", OperatorAlert.channelHeld.rawValue)]
                    ).increment()
                }
            }
            if state != .pending {
                // One line per message that will not go out by itself; no recipient, so no phone number.
                logger.warning(
                    state == .held ? "message held at planning" : "message failed at planning",
                    metadata: [
                        "herald.provider": "\(stored.provider)", "herald.event_id": "\(stored.id)",
                        "herald.rule": "\(m.rule)", "herald.channel": "\(m.channel)",
                        "herald.reason": "\(LogSafe.redactingPhones(lastError ?? "-"))",
                    ])
            }
            return OutboxMessage(
                idempotencyKey: key, eventID: stored.id, provider: stored.provider,
                orderReference: event.order.reference,
                rule: m.rule, channel: m.channel, recipient: m.to ?? m.unsetTo ?? "", locale: m.locale, text: m.text,
                encoding: m.encoding?.alphabet.rawValue, segments: m.encoding?.segments, state: state,
                nextAttemptAt: state == .pending ? (planned.deferredUntil ?? now) : nil, lastError: lastError,
                createdAt: now, whatsapp: m.whatsapp)
        }
    }
}

extension EventProcessor {
    /// `herald retry` of a message that failed before it had a text: the same event planned again
    /// with today's rules and templates, for the same rule. Nil when the rule no longer yields a
    /// message for the event (the caller keeps the stored one failed).
    public func replanned(_ message: OutboxMessage, event: StoredEvent) async -> OutboxMessage? {
        guard let ruleEvent = PreparedEvent.decided(event, profile: ruleSet.provider(named: event.provider)) else {
            return nil
        }
        return await outboxMessages(for: event, event: ruleEvent).first { $0.rule == message.rule }
    }
}

extension EventProcessor {
    /// The processor's loop: woken by intake, polling every second otherwise.
    public var service: WorkLoop {
        WorkLoop(name: "processor", wakeup: wakeup, idleInterval: .seconds(1), logger: logger) {
            try await processBatch()
        }
    }
}

/// The labels of `herald_messages_planned_total`.
private struct PlannedKey: Hashable {
    var channel: String
    var state: String
}
