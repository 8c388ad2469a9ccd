import Foundation
import HeraldCore
import ServiceLifecycle

/// The store's twin for tests: the same protocols and the same semantics as `SQLiteStore`, held
/// in memory by one actor (each call is one transaction).
///
/// Events are deduplicated per provider and dedupe key (counting deliveries), the order state is
/// what `OrderDecision` decides, an idempotency key enters the outbox once, a claimed message is
/// leased (invisible to other claims until the lease ends, then claimed back as recovered), and
/// suppressions keep one entry per number and scope.
public actor InMemoryStore: Store {
    struct OutboxRow {
        var message: OutboxMessage
        var leaseExpiresAt: Date?
        var sentAt: Date?
    }

    private var events: [StoredEvent] = []
    private var eventIDs: [String: [String: Int64]] = [:]
    private var orders: [OrderKey: OrderState] = [:]
    /// Internal, not private: `InMemoryStore+Receipts.swift` applies receipts to it.
    var outbox: [OutboxRow] = []
    var receiptRows: [StoredReceipt] = []
    /// Internal, not private: a receipt's fallback message (`InMemoryStore+Receipts.swift`) is keyed too.
    var idempotencyKeys: Set<String> = []
    var suppressionList: [(id: Int, entry: Suppression)] = []
    private var nextSuppressionID = 1
    private var isClosed = false

    public init() {}

    /// None: every call is its own transaction.
    public nonisolated var services: [any Service] { [] }

    /// Only this process holds the twin: there are no other writers to hear of.
    public nonisolated func observeChanges(_ handler: @escaping @Sendable (StoreChange) -> Void) {}

    /// One process: it paces in memory.
    public nonisolated func sharedPacer(limits: [String: PacingLimits]) -> (any SendPacing)? { nil }

    func checkOpen() throws {
        if isClosed { throw StoreError.closed }
    }

    public func ping() async throws { try checkOpen() }

    public func close() async throws { isClosed = true }

    // MARK: Inbox

    public func record(_ event: IncomingEvent) async throws -> RecordOutcome {
        try checkOpen()
        if let id = eventIDs[event.provider]?[event.dedupeKey] {
            events[Int(id) - 1].deliveries += 1
            return .duplicate(id: id)
        }
        let id = Int64(events.count + 1)
        eventIDs[event.provider, default: [:]][event.dedupeKey] = id
        events.append(
            StoredEvent(
                id: id, provider: event.provider, dedupeKey: event.dedupeKey, deliveryID: event.deliveryID,
                receivedAt: event.receivedAt, remoteAddress: event.remoteAddress, headers: event.headers,
                body: event.body, eventName: event.eventName, orderReference: event.orderReference,
                status: event.status, parseError: event.parseError, stale: false, deliveries: 1, processedAt: nil,
                undecided: true))
        return .accepted(StoredEventSummary(id: id))
    }

    public func events(_ query: EventQuery) async throws -> [StoredEvent] {
        try checkOpen()
        let matching = events.reversed().filter { event in
            (query.provider == nil || event.provider == query.provider)
                && (!query.failedOnly || event.parseError != nil || event.fieldProblems != nil)
        }
        return Array(matching.prefix(query.limit))
    }

    public func eventsAfter(id: Int64, provider: String?, since: Date?, limit: Int) async throws -> [StoredEvent] {
        try checkOpen()
        let matching = events.filter { event in
            event.id > id && (provider == nil || event.provider == provider)
                && (since.map { event.receivedAt >= $0 } ?? true)
        }
        return Array(matching.prefix(limit))
    }

    public func event(id: Int64) async throws -> StoredEvent? {
        try checkOpen()
        return events.indices.contains(Int(id) - 1) ? events[Int(id) - 1] : nil
    }

    /// Of each order, the oldest event not processed yet; one actor, so no lease is needed.
    public func claimEvents(now: Date, limit: Int, lease: TimeInterval) async throws -> [StoredEvent] {
        try checkOpen()
        var waiting: Set<String> = []
        var claimed: [StoredEvent] = []
        for event in events where event.processedAt == nil && claimed.count < limit {
            guard let reference = event.orderReference else {
                claimed.append(event)
                continue
            }
            if waiting.insert(event.provider + "\u{1F}" + reference).inserted { claimed.append(event) }
        }
        return claimed
    }

    public func completeProcessing(_ batch: [EventCompletion], at now: Date) async throws -> [[Bool]] {
        try checkOpen()
        return batch.map { completion in
            var inserted: [Bool] = []
            for message in completion.messages {
                guard !idempotencyKeys.contains(message.idempotencyKey) else {
                    inserted.append(false)
                    continue
                }
                idempotencyKeys.insert(message.idempotencyKey)
                var row = message
                row.id = Int64(outbox.count + 1)
                row.attempts = 0
                row.providerMessageID = nil
                row.attemptedAt = nil
                outbox.append(OutboxRow(message: row))
                inserted.append(true)
            }
            let index = Int(completion.eventID) - 1
            guard events.indices.contains(index) else { return inserted }
            if let decision = completion.decision, events[index].undecided {
                apply(decision, toEventAt: index)
            }
            events[index].processedAt = now
            return inserted
        }
    }

    /// Stores what the processor decided for the event at `index` and its order.
    private func apply(_ decision: EventDecision, toEventAt index: Int) {
        events[index].eventName = decision.eventName
        events[index].status = decision.status
        events[index].previousStatus = decision.previousStatus
        events[index].occurredAt = decision.occurredAt
        events[index].parseError = decision.parseError
        events[index].fieldProblems = decision.fieldProblems
        events[index].stale = decision.stale
        events[index].inherited = decision.inherited
        events[index].undecided = false
        if let state = decision.order {
            orders[OrderKey(provider: state.provider, reference: state.reference)] = state
        }
    }

    // MARK: Order state

    public func orderState(provider: String, reference: String) async throws -> OrderState? {
        try checkOpen()
        return orders[OrderKey(provider: provider, reference: reference)]
    }

    public func orderStates(of keys: Set<OrderKey>) async throws -> [OrderKey: OrderState] {
        try checkOpen()
        return orders.filter { keys.contains($0.key) }
    }

    public func orderStates() async throws -> [OrderState] {
        try checkOpen()
        return orders.values.sorted { ($0.provider, $0.reference) < ($1.provider, $1.reference) }
    }

    public func queueDepths() async throws -> (messages: [OutboxMessage.State: Int], unprocessedEvents: Int) {
        try checkOpen()
        var counts: [OutboxMessage.State: Int] = [:]
        for row in outbox { counts[row.message.state, default: 0] += 1 }
        return (counts, events.filter { $0.processedAt == nil }.count)
    }

    // MARK: Outbox

    /// The indices of `outbox` matching `isDue`, in the order claims take them.
    private func due(limit: Int, _ isDue: (OutboxRow) -> Bool) -> [Int] {
        let indices = outbox.indices.filter { isDue(outbox[$0]) }.sorted { a, b in
            let first = outbox[a].message.nextAttemptAt ?? .distantPast
            let second = outbox[b].message.nextAttemptAt ?? .distantPast
            return first == second ? a < b : first < second
        }
        return Array(indices.prefix(limit))
    }

    public func claimDue(now: Date, limit: Int, lease: TimeInterval) async throws
        -> [(message: OutboxMessage, recovered: Bool)]
    {
        try checkOpen()
        let indices = due(limit: limit) { row in
            switch row.message.state {
            case .pending: return row.message.nextAttemptAt.map { $0 <= now } ?? false
            case .sending: return row.leaseExpiresAt.map { $0 <= now } ?? false
            default: return false
            }
        }
        return indices.map { index in
            let recovered = outbox[index].message.state == .sending
            outbox[index].leaseExpiresAt = now.addingTimeInterval(lease)
            outbox[index].message.attempts += 1
            outbox[index].message.state = .sending
            // A recovered message keeps the time of the attempt it was claimed for.
            if !recovered { outbox[index].message.attemptedAt = now }
            if outbox[index].message.attemptedAt == nil {
                outbox[index].message.attemptedAt = now.addingTimeInterval(-lease)
            }
            return (outbox[index].message, recovered)
        }
    }

    public func claimLookups(now: Date, limit: Int, lease: TimeInterval) async throws -> [OutboxMessage] {
        try checkOpen()
        let indices = due(limit: limit) { row in
            row.message.state == .unknown && (row.message.nextAttemptAt.map { $0 <= now } ?? false)
        }
        return indices.map { index in
            let message = outbox[index].message
            outbox[index].message.nextAttemptAt = now.addingTimeInterval(lease)
            return message
        }
    }

    public func record(_ updates: [(messageID: Int64, update: DeliveryUpdate, refundAttempt: Bool)], at now: Date)
        async throws
    {
        try checkOpen()
        for (messageID, update, refundAttempt) in updates {
            guard let index = outbox.firstIndex(where: { $0.message.id == messageID }) else { continue }
            var row = outbox[index]
            // A delivery state a receipt left stays (see `SQLiteStore.record`).
            if !ReceiptRule.deliveryStates.contains(row.message.state) { row.message.state = update.state }
            row.message.nextAttemptAt = update.nextAttemptAt
            row.message.lastError = update.lastError
            row.message.providerMessageID = update.providerMessageID ?? row.message.providerMessageID
            row.message.channel = update.channel ?? row.message.channel
            row.message.recipient = update.recipient ?? row.message.recipient
            row.leaseExpiresAt = nil
            if update.state == .sent {
                row.sentAt = now
                row.message.progress.sentAt = now
            }
            if refundAttempt { row.message.attempts -= 1 }
            outbox[index] = row
        }
        // Numbers the provider said opted out, with the outcome that revealed them.
        for suppression in updates.compactMap({ $0.update.suppression }) { _ = add(suppression) }
    }

    public func release(ids: [Int64], at now: Date, force: Bool) async throws -> [Int64] {
        try checkOpen()
        return ids.filter { id in
            guard let index = outbox.firstIndex(where: { $0.message.id == id }) else { return false }
            let state = outbox[index].message.state
            guard state == .failed || state == .held || (force && state == .unknown) else { return false }
            outbox[index].message.state = .pending
            outbox[index].message.nextAttemptAt = now
            outbox[index].message.attempts = 0
            return true
        }
    }

    @discardableResult
    public func replan(id: Int64, with message: OutboxMessage) async throws -> Bool {
        try checkOpen()
        guard let index = outbox.firstIndex(where: { $0.message.id == id && $0.message.state == .failed }) else {
            return false
        }
        outbox[index].message.text = message.text
        outbox[index].message.locale = message.locale
        outbox[index].message.encoding = message.encoding
        outbox[index].message.segments = message.segments
        outbox[index].message.whatsapp = message.whatsapp
        outbox[index].message.lastError = message.lastError
        return true
    }

    public func messages(_ query: MessageQuery) async throws -> [OutboxMessage] {
        try checkOpen()
        let matching = outbox.reversed().map(\.message).filter { message in
            (query.orderReference == nil || message.orderReference == query.orderReference)
                && (query.state == nil || message.state == query.state)
        }
        return Array(matching.prefix(query.limit))
    }

    // MARK: Suppressions

    @discardableResult
    public func addSuppression(_ entry: Suppression) async throws -> Bool {
        try checkOpen()
        return add(entry)
    }

    func add(_ entry: Suppression) -> Bool {
        let same = suppressionList.firstIndex { $0.entry.number == entry.number && $0.entry.scope == entry.scope }
        if let same {
            guard entry.source == .operator, suppressionList[same].entry != entry else { return false }
            suppressionList.remove(at: same)
        }
        suppressionList.append((nextSuppressionID, entry))
        nextSuppressionID += 1
        return true
    }

    @discardableResult
    public func removeSuppressions(number: String, scope: Suppression.Scope?) async throws -> [Suppression] {
        try checkOpen()
        let matches = { (entry: Suppression) in entry.number == number && (scope == nil || entry.scope == scope) }
        let removed = suppressionList.filter { matches($0.entry) }.map(\.entry)
        suppressionList.removeAll { matches($0.entry) }
        return removed
    }

    public func suppressions(numbers: [String]?) async throws -> [Suppression] {
        try checkOpen()
        return suppressionList.filter { numbers?.contains($0.entry.number) ?? true }
            .sorted { a, b in
                a.entry.createdAt == b.entry.createdAt ? a.id > b.id : a.entry.createdAt > b.entry.createdAt
            }
            .map(\.entry)
    }

    public func suppression(for number: String, channel: String) async throws -> Suppression? {
        try checkOpen()
        return Suppression.stopping(suppressionList.map(\.entry).filter { $0.number == number }, on: channel)
    }
}
