import Foundation
import HeraldCore
import HeraldDispatch
import HeraldStore
import Logging
import Metrics
import ServiceLifecycle

/// Sends due outbox messages through their channels and records each outcome.
public struct Dispatcher: Sendable {
    public var store: any Store
    public var ruleSet: RuleSet
    /// Channels that can send (credentials set); others hold their messages.
    public var channels: [String: any MessageChannel]
    public var transport: any HTTPTransport
    public var policy: RetryPolicy
    public var logger: Logger
    public var clock: @Sendable () -> Date
    public var random: @Sendable () -> Double
    /// How many messages are sent at once.
    public var concurrency: Int
    public var lease: TimeInterval
    /// Paces sends (`rate`, `recipient_interval`): in the database when instances share it.
    public var limiter: any SendPacing
    /// Signalled when messages are queued; waited on when idle.
    public var wakeup = Wakeup()
    /// How long after an unknown outcome the provider is asked (so a message it was still
    /// accepting shows in its list).
    public var settleDelay: TimeInterval = 10
    /// When a lookup failed, how long until the next one.
    public var lookupRetryDelay: TimeInterval = 60

    public init(
        store: any Store, ruleSet: RuleSet, channels: [String: any MessageChannel], transport: any HTTPTransport,
        policy: RetryPolicy = RetryPolicy(), logger: Logger, clock: @escaping @Sendable () -> Date = Date.init,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }, concurrency: Int = 32,
        lease: TimeInterval = 60
    ) {
        self.store = store
        self.ruleSet = ruleSet
        self.channels = channels
        self.transport = transport
        self.policy = policy
        self.logger = logger
        self.clock = clock
        self.random = random
        self.concurrency = concurrency
        self.lease = lease
        let limits = PacingLimits.limits(for: ruleSet.channels)
        self.limiter = store.sharedPacer(limits: limits) ?? RateLimiter(limits: limits)
    }

    /// Builds every configured channel whose credentials are set.
    public static func channels(
        for ruleSet: RuleSet, baseURL: URL? = nil, publicURL: String? = nil, logger: Logger
    ) -> [String: any MessageChannel] {
        var channels: [String: any MessageChannel] = [:]
        for config in ruleSet.channels where config.missing.isEmpty {
            do {
                channels[config.name] = try Channels.make(config, baseURL: baseURL, publicURL: publicURL)
            } catch {
                logger.error(
                    "channel misconfigured: its messages are held",
                    metadata: ["herald.channel": "\(config.name)", "error": "\(error)"])
            }
        }
        return channels
    }

    /// Claims the messages due now and sends them, `concurrency` at a time; returns how many it handled.
    @discardableResult
    public func dispatchDue() async throws -> Int {
        try await dispatchRound().handled
    }

    /// One round: lookups and sends claimed, done and recorded. `more` when work may be left: a
    /// full claim, or a message due again at once (a fallback, a lookup that found nothing);
    /// otherwise the loop waits for a wakeup (messages queued, here or by another instance) or its
    /// poll, rather than ask again at once for what a claim that was not full already said is not
    /// there (on PostgreSQL two statements per round).
    func dispatchRound() async throws -> (handled: Int, more: Bool) {
        let lookups = try await store.claimLookups(now: clock(), limit: concurrency, lease: lease)
        let claimed = try await store.claimDue(now: clock(), limit: concurrency, lease: lease)
        guard !claimed.isEmpty || !lookups.isEmpty else { return (0, false) }
        let suppressions = claimed.isEmpty ? nil : await suppressionSnapshot(for: claimed.map(\.message))
        let updates = await withTaskGroup(of: (OutboxMessage, DeliveryUpdate, Bool).self) { group in
            for message in lookups {
                group.addTask { await self.lookUp(message) }
            }
            for (message, recovered) in claimed {
                group.addTask { await self.deliver(message, recovered: recovered, suppressions: suppressions) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        await record(updates)
        let now = clock()
        let dueAgain = updates.contains { $0.1.state == .pending && ($0.1.nextAttemptAt ?? .distantFuture) <= now }
        let full = claimed.count >= concurrency || lookups.count >= concurrency
        return (claimed.count + lookups.count, full || dueAgain)
    }

    /// Resolves an `unknown` message by asking its provider: found → `sent` with its id; not
    /// there → `pending`, sent again now; the lookup failed → `unknown`, asked again later.
    func lookUp(_ message: OutboxMessage) async -> (OutboxMessage, DeliveryUpdate, Bool) {
        let now = clock()
        guard let configured = channels[message.channel] else {
            let reason =
                "\(message.lastError ?? "unknown outcome"); lookup waits: channel '\(message.channel)' cannot send"
            let later = now.addingTimeInterval(lookupRetryDelay)
            return (message, DeliveryUpdate(state: .unknown, nextAttemptAt: later, lastError: reason), false)
        }
        guard let channel = configured as? any LookingUpChannel else {
            // No lookup for this provider: it stays unknown until a receipt says.
            return (message, DeliveryUpdate(state: .unknown, lastError: message.lastError), false)
        }
        let outcome = await channel.lookUp(
            ChannelMessage(
                idempotencyKey: message.idempotencyKey, to: message.recipient, text: message.text,
                locale: message.locale, whatsapp: message.whatsapp),
            attemptedAt: message.attemptedAt ?? message.createdAt, transport: transport)
        let update: DeliveryUpdate
        let result: String
        switch outcome {
        case .found(let id):
            result = "found"
            update = DeliveryUpdate(state: .sent, lastError: nil, providerMessageID: id)
        case .notFound:
            result = "not_found"
            update = DeliveryUpdate(
                state: .pending, nextAttemptAt: now, lastError: "lookup: not at the provider, sent again")
        case .failed(let reason):
            result = "failed"
            update = DeliveryUpdate(
                state: .unknown, nextAttemptAt: now.addingTimeInterval(lookupRetryDelay),
                lastError: "unknown outcome; \(reason)")
        }
        Counter(label: "herald_lookups_total", dimensions: [("channel", message.channel), ("outcome", result)])
            .increment()
        logger.info(
            "unknown outcome looked up",
            metadata: [
                "herald.message_id": "\(message.id)", "herald.channel": "\(message.channel)",
                "herald.outcome": "\(result)",
            ])
        return (message, update, false)
    }

    /// A condition only a person can fix: a critical log line and `herald_operator_alerts_total{reason}`.
    func alertOperator(_ alert: OperatorAlert, _ message: String, channel: String, reason: String) {
        Counter(label: "herald_operator_alerts_total", dimensions: [("reason", alert.rawValue)]).increment()
        logger.critical(
            "\(message)",
            metadata: [
                "herald.channel": "\(channel)", "herald.alert": "\(alert.rawValue)", "herald.reason": "\(reason)",
            ])
    }

    /// Sends one claimed message; returns the update to record (and whether to refund the attempt).
    ///
    /// A message held because its rule's recipient variable was unset (its recipient is the rule's
    /// `to` as written, `${MERCHANT_PHONE}`) is addressed now from the rules as loaded, and held
    /// again, without using an attempt, while the variable is still unset.
    func deliver(_ message: OutboxMessage, recovered: Bool, suppressions: SuppressionSnapshot?) async
        -> (OutboxMessage, DeliveryUpdate, Bool)
    {
        guard message.recipient.contains("${") else {
            return await deliverAddressed(message, recovered: recovered, suppressions: suppressions)
        }
        let send = ruleSet.rules.first { $0.id == message.rule }?.send
        let country = ruleSet.provider(named: message.provider)?.country ?? ruleSet.defaults.country
        guard let send, send.unsetTo == nil, let raw = send.to,
            case .success(let number) = PhoneNumber.normalize(raw, defaultCountry: country)
        else {
            return (
                message, DeliveryUpdate(state: .held, lastError: Disposition.unsetRecipient(message.recipient)), true
            )
        }
        var addressed = message
        addressed.recipient = number
        var (sent, update, refund) = await deliverAddressed(addressed, recovered: recovered, suppressions: nil)
        update.recipient = number
        return (sent, update, refund)
    }

    func deliverAddressed(_ message: OutboxMessage, recovered: Bool, suppressions: SuppressionSnapshot?) async
        -> (OutboxMessage, DeliveryUpdate, Bool)
    {
        let rule = ruleSet.rules.first { $0.id == message.rule }
        let atLeastOnce = rule?.send?.atLeastOnce ?? false
        if let suppressed = await suppressedUpdate(for: message, snapshot: suppressions) {
            return (message, suppressed, true)
        }
        if let reason = Self.unsendableText(message.text) {
            return (message, DeliveryUpdate(state: .failed, lastError: reason), false)
        }
        guard let channel = channels[message.channel] else {
            let reason = heldReason(message)
            alertOperator(
                .channelHeld, "channel cannot send: messages held until it is configured, then herald retry",
                channel: message.channel, reason: reason)
            // Still unset: held again, and the attempt the claim counted is given back.
            return (message, DeliveryUpdate(state: .held, lastError: reason), true)
        }
        // Quiet hours hold at send time too: a message released by `herald retry`, or due again
        // after a retry delay, waits for the end of the window in the recipient's time zone.
        // Not a recovered one: it may have gone out, and only the path below may decide that.
        if !recovered, let until = quietUntil(message) {
            return (message, DeliveryUpdate(state: .pending, nextAttemptAt: until, lastError: message.lastError), true)
        }
        // Pacing: wait for a slot up to a second; a longer wait (the same recipient again on
        // WhatsApp) goes back to the queue without using an attempt.
        let now = clock()
        let slot: Date
        do {
            slot = try await limiter.reserve(
                channel: message.channel, recipient: message.recipient, now: now, bookingWithin: 1)
        } catch {
            // The shared pacing is out of reach (so is the database): back to the queue, attempt given back.
            logger.warning("pacing unavailable; message back in the queue", metadata: ["error": "\(error)"])
            let retry = now.addingTimeInterval(1)
            return (message, DeliveryUpdate(state: .pending, nextAttemptAt: retry, lastError: message.lastError), true)
        }
        let wait = slot.timeIntervalSince(now)
        if wait > 1 {
            return (message, DeliveryUpdate(state: .pending, nextAttemptAt: slot, lastError: message.lastError), true)
        }
        if wait > 0 { try? await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
        let outcome: SendOutcome
        if recovered, !channel.isIdempotent, !atLeastOnce || channel is any LookingUpChannel {
            // A dispatcher stopped mid-send: it may have gone out. Never risk sending it twice.
            outcome = .unknownOutcome("the previous attempt was interrupted")
        } else {
            let started = DispatchTime.now()
            outcome = await channel.send(
                ChannelMessage(
                    idempotencyKey: message.idempotencyKey, to: message.recipient, text: message.text,
                    locale: message.locale, whatsapp: message.whatsapp),
                transport: transport)
            Timer(label: "herald_send_duration_seconds", dimensions: [("channel", message.channel)]).recordInterval(
                since: started)
        }
        return (
            message,
            update(
                for: outcome, message: message, channel: channel, atLeastOnce: atLeastOnce,
                fallback: rule?.send?.fallback), false
        )
    }

    /// Why `text` must not reach a provider: empty (the message failed before it was rendered) or
    /// holding an unrendered Mustache tag. Nil when it may be sent.
    static func unsendableText(_ text: String) -> String? {
        if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            return "refused to send an empty text (the message failed before rendering; herald retry renders it again)"
        }
        if let open = text.range(of: "{{"), text.range(of: "}}", range: open.upperBound..<text.endIndex) != nil {
            return "refused to send an unrendered text (it still holds a {{…}} tag)"
        }
        return nil
    }

    /// Why a message of a channel that cannot send is held: the variables left unset, when the rules say.
    func heldReason(_ message: OutboxMessage) -> String {
        if let config = ruleSet.channel(named: message.channel), !config.canSend { return config.unsetCredentials }
        return "channel '\(message.channel)' is not configured (credentials unset?)"
    }

    /// The end of the quiet hours when `now` is inside them for the message's recipient; nil otherwise.
    func quietUntil(_ message: OutboxMessage) -> Date? {
        guard let quiet = ruleSet.defaults.quietHours else { return nil }
        let zone =
            PhoneNumber.timeZone(of: message.recipient)
            ?? ruleSet.provider(named: message.provider)?.timeZone ?? ruleSet.defaults.timeZone
        return quiet.deferral(at: clock(), timeZone: zone)
    }

    /// The update to record; the reasons a provider gives have phone numbers masked, as they
    /// reach the log and `herald messages`.
    func update(
        for outcome: SendOutcome, message: OutboxMessage, channel: any MessageChannel, atLeastOnce: Bool,
        fallback: String?
    ) -> DeliveryUpdate {
        var update = unmaskedUpdate(
            for: outcome, message: message, channel: channel, atLeastOnce: atLeastOnce, fallback: fallback)
        update.lastError = update.lastError.map(LogSafe.redactingPhones)
        if let reason = update.suppression?.reason { update.suppression?.reason = LogSafe.redactingPhones(reason) }
        switch outcome {
        case .hold:
            alertOperator(
                .credentialsRejected, "channel credentials rejected: messages held until fixed, then herald retry",
                channel: message.channel, reason: update.lastError ?? "-")
        case .needsOperator(_, let alert):
            alertOperator(
                alert, "provider refused the message until the account is changed (geo permissions)",
                channel: message.channel, reason: update.lastError ?? "-")
        default:
            break
        }
        return update
    }

    func unmaskedUpdate(
        for outcome: SendOutcome, message: OutboxMessage, channel: any MessageChannel, atLeastOnce: Bool,
        fallback: String?
    ) -> DeliveryUpdate {
        let now = clock()
        func retry(_ reason: String, after: TimeInterval?) -> DeliveryUpdate {
            guard message.attempts < policy.maxAttempts else {
                return DeliveryUpdate(
                    state: .failed, lastError: "\(reason) (gave up after \(message.attempts) attempts)")
            }
            let delay = policy.delay(afterAttempt: message.attempts, retryAfter: after, random: random())
            return DeliveryUpdate(state: .pending, nextAttemptAt: now.addingTimeInterval(delay), lastError: reason)
        }
        switch outcome {
        case .sent(let id):
            return DeliveryUpdate(state: .sent, providerMessageID: id)
        case .retry(let reason, let after):
            return retry(reason, after: after)
        case .failed(let reason):
            return DeliveryUpdate(state: .failed, lastError: reason)
        case .hold(let reason):
            return DeliveryUpdate(state: .held, lastError: reason)
        case .fallback(let reason):
            guard let fallback, channels[fallback] != nil || ruleSet.channels.contains(where: { $0.name == fallback })
            else {
                return DeliveryUpdate(state: .failed, lastError: "\(reason); the rule has no fallback channel")
            }
            return DeliveryUpdate(
                state: .pending, nextAttemptAt: now, lastError: "\(reason); falling back to \(fallback)",
                channel: fallback)
        case .needsOperator(let reason, _):
            return DeliveryUpdate(state: .failed, lastError: reason)
        case .unknownOutcome(let reason):
            // The provider can be asked (Twilio): after the settling delay, a lookup decides.
            if !channel.isIdempotent, channel is any LookingUpChannel {
                return DeliveryUpdate(
                    state: .unknown, nextAttemptAt: now.addingTimeInterval(settleDelay),
                    lastError: "unknown outcome: \(reason)")
            }
            if channel.isIdempotent || atLeastOnce { return retry(reason, after: nil) }
            // WhatsApp Cloud: unknown until a receipt says.
            return DeliveryUpdate(state: .unknown, lastError: "unknown outcome: \(reason)")
        case .optedOut(let reason):
            return DeliveryUpdate(state: .failed, lastError: reason, suppression: optOut(of: message, reason, at: now))
        }
    }

    /// Records a batch of outcomes in one transaction, with a log line each (phone masked).
    func record(_ updates: [(OutboxMessage, DeliveryUpdate, Bool)]) async {
        for (message, update, _) in updates {
            Counter(
                label: "herald_messages_total",
                dimensions: [("channel", message.channel), ("state", update.state.rawValue)]
            ).increment()
            var metadata: Logger.Metadata = [
                "herald.message_id": "\(message.id)", "herald.channel": "\(message.channel)",
                "herald.state": "\(update.state.rawValue)",
                "herald.to": "\(LogSafe.phone(message.recipient))", "herald.attempt": "\(message.attempts)",
            ]
            if let error = update.lastError { metadata["herald.reason"] = "\(error)" }
            logger.info("send attempt recorded", metadata: metadata)
            if update.suppression != nil { logger.notice("recipient opted out: number suppressed", metadata: metadata) }
        }
        do {
            try await store.record(updates.map { ($0.0.id, $0.1, $0.2) }, at: clock())
        } catch {
            // The leases expire and the messages are claimed again as recovered: never lost.
            logger.error(
                "could not record send outcomes", metadata: ["error": "\(error)", "herald.count": "\(updates.count)"])
        }
    }
}

extension Dispatcher {
    /// The dispatcher's loop: woken when messages are queued, polling every 250 ms otherwise for
    /// messages whose time comes later (retries, quiet hours).
    public var service: WorkLoop {
        WorkLoop(name: "dispatcher", wakeup: wakeup, idleInterval: .milliseconds(250), logger: logger) {
            let round = try await dispatchRound()
            return round.more ? round.handled : 0
        }
    }
}
