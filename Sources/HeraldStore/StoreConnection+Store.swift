import Foundation
import HeraldCore

/// Every call goes to the connected store, or throws `StoreError.notConnected` before.
extension StoreConnection {
    public func record(_ event: IncomingEvent) async throws -> RecordOutcome {
        try await connected().record(event)
    }

    public func events(_ query: EventQuery) async throws -> [StoredEvent] {
        try await connected().events(query)
    }

    public func eventsAfter(id: Int64, provider: String?, since: Date?, limit: Int) async throws -> [StoredEvent] {
        try await connected().eventsAfter(id: id, provider: provider, since: since, limit: limit)
    }

    public func event(id: Int64) async throws -> StoredEvent? {
        try await connected().event(id: id)
    }

    public func claimEvents(now: Date, limit: Int, lease: TimeInterval) async throws -> [StoredEvent] {
        try await connected().claimEvents(now: now, limit: limit, lease: lease)
    }

    public func completeProcessing(_ batch: [EventCompletion], at now: Date) async throws -> [[Bool]] {
        try await connected().completeProcessing(batch, at: now)
    }

    public func orderState(provider: String, reference: String) async throws -> OrderState? {
        try await connected().orderState(provider: provider, reference: reference)
    }

    public func orderStates(of keys: Set<OrderKey>) async throws -> [OrderKey: OrderState] {
        try await connected().orderStates(of: keys)
    }

    public func orderStates() async throws -> [OrderState] {
        try await connected().orderStates()
    }

    public func claimDue(now: Date, limit: Int, lease: TimeInterval) async throws
        -> [(message: OutboxMessage, recovered: Bool)]
    {
        try await connected().claimDue(now: now, limit: limit, lease: lease)
    }

    public func claimLookups(now: Date, limit: Int, lease: TimeInterval) async throws -> [OutboxMessage] {
        try await connected().claimLookups(now: now, limit: limit, lease: lease)
    }

    public func record(_ updates: [(messageID: Int64, update: DeliveryUpdate, refundAttempt: Bool)], at now: Date)
        async throws
    {
        try await connected().record(updates, at: now)
    }

    public func release(ids: [Int64], at now: Date, force: Bool) async throws -> [Int64] {
        try await connected().release(ids: ids, at: now, force: force)
    }

    @discardableResult
    public func replan(id: Int64, with message: OutboxMessage) async throws -> Bool {
        try await connected().replan(id: id, with: message)
    }

    public func messages(_ query: MessageQuery) async throws -> [OutboxMessage] {
        try await connected().messages(query)
    }

    @discardableResult
    public func addSuppression(_ entry: Suppression) async throws -> Bool {
        try await connected().addSuppression(entry)
    }

    @discardableResult
    public func removeSuppressions(number: String, scope: Suppression.Scope?) async throws -> [Suppression] {
        try await connected().removeSuppressions(number: number, scope: scope)
    }

    public func suppressions(numbers: [String]?) async throws -> [Suppression] {
        try await connected().suppressions(numbers: numbers)
    }

    public func suppression(for number: String, channel: String) async throws -> Suppression? {
        try await connected().suppression(for: number, channel: channel)
    }

    public func queueDepths() async throws -> (messages: [OutboxMessage.State: Int], unprocessedEvents: Int) {
        try await connected().queueDepths()
    }
}

extension StoreConnection {
    public func recordReceipts(_ receipts: [IncomingReceipt], at now: Date, fallbacks: ReceiptFallbacks)
        async throws -> [ReceiptOutcome]
    {
        try await connected().recordReceipts(receipts, at: now, fallbacks: fallbacks)
    }

    public func replies(sender: String?, limit: Int) async throws -> [StoredReceipt] {
        try await connected().replies(sender: sender, limit: limit)
    }

    public func receipts(channel: String?, limit: Int) async throws -> [StoredReceipt] {
        try await connected().receipts(channel: channel, limit: limit)
    }
}
