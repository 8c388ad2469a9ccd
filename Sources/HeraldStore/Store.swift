import Foundation
import HeraldCore
import ServiceLifecycle

/// Where Herald keeps events, order state, the outbox and the suppression list: everything the
/// pipeline needs, by concept. SQLite is the embedded default (`SQLiteStore`), `InMemoryStore`
/// its twin for tests; a shared database serving several instances implements the same
/// protocols.
public protocol Store: EventInbox, OrderStates, OutboxStore, SuppressionList, QueueDepths, ReceiptStore {
    /// The store's long-running work (group commit, checkpoints, listeners), for the service group
    /// of `herald serve` to run before the store is used and to stop after it is closed. Without
    /// them the store still works, writing each call on its own.
    var services: [any Service] { get }
    /// Calls `handler` when another process sharing the database recorded events or queued
    /// messages, so idle loops wake at once instead of at their next poll (a hint: polling stays
    /// the fallback). A database one process uses never calls it: that process's intake and
    /// processor wake the loops themselves.
    func observeChanges(_ handler: @escaping @Sendable (StoreChange) -> Void)
    /// Pacing (`rate`, `recipient_interval`) kept in the database, for instances that share it to
    /// hold the limits together; nil when one process uses the store (it paces in memory).
    func sharedPacer(limits: [String: PacingLimits]) -> (any SendPacing)?
    /// Succeeds when the store can answer queries.
    func ping() async throws
    /// Finishes pending writes and releases the database; every later call throws `StoreError.closed`.
    func close() async throws
}

/// What another process sharing the database did (`Store.observeChanges`).
public enum StoreChange: String, Sendable {
    /// Events were recorded: the processor has work.
    case eventsRecorded = "events"
    /// Messages were queued: the dispatcher has work.
    case messagesQueued = "messages"
}

/// The order state the store keeps per provider and reference (what `OrderDecision` decided).
public protocol OrderStates: Sendable {
    func orderState(provider: String, reference: String) async throws -> OrderState?
    /// The known states of `keys`' orders, in one read (the processor's batch); an order without
    /// one is absent.
    func orderStates(of keys: Set<OrderKey>) async throws -> [OrderKey: OrderState]
    /// Every order's last known state, by provider and reference (for `herald dry-run --db`).
    func orderStates() async throws -> [OrderState]
}

/// An order, as the store keys it.
public struct OrderKey: Hashable, Sendable {
    public var provider: String
    public var reference: String

    public init(provider: String, reference: String) {
        self.provider = provider
        self.reference = reference
    }
}

/// How much work waits, read at scrape time for `/metrics`.
public protocol QueueDepths: Sendable {
    /// How many messages are in each state, and how many events wait to be processed.
    func queueDepths() async throws -> (messages: [OutboxMessage.State: Int], unprocessedEvents: Int)
}

public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }

    public static let closed = StoreError("the store is closed")

    /// The database has not been reached yet (`StoreConnection` is still connecting).
    public static let notConnected = StoreError("the database is not connected yet")
}
