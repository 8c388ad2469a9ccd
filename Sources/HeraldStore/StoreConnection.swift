import Foundation
import HeraldCore
import Logging
import ServiceLifecycle
import Synchronization

/// A store reached over the network that `herald serve` starts without: the process serves at
/// once, and this service keeps connecting until the database answers.
///
/// It is itself a `Store`: until it is connected every call throws `StoreError.notConnected`
/// (intake and `/healthz` answer 503, the work loops idle); once connected, every call goes to
/// the store `connect` returned. While connecting it logs `database unreachable, retrying` with
/// the reason once, then at most once a minute, and `database connected` when it succeeds;
/// attempts are 1 s apart, doubling up to 30 s.
///
/// Run it as the first service of the group: it runs the connected store's own services (group
/// commit) and, shutdown running in reverse, stops after everything that uses it.
public final class StoreConnection: Store, Service {
    /// What the logs name: the database URL with its password masked.
    public let name: String
    private let connect: @Sendable () async throws -> any Store
    private let onConnected: @Sendable (any Store) async -> Void
    private let logger: Logger
    private let state = Mutex<State>(.connecting)
    /// Who wants to hear of other instances' changes: handed to the store once it is connected.
    private let observers = Mutex<[@Sendable (StoreChange) -> Void]>([])

    enum State {
        case connecting
        case ready(any Store)
        case closed
    }

    /// The first wait between attempts, and the longest.
    let firstDelay: Duration
    let longestDelay: Duration = .seconds(30)
    /// How often a failure that goes on is logged again.
    let reminderInterval: Duration = .seconds(60)

    /// - Parameters:
    ///   - name: the database as logs may show it (no password).
    ///   - connect: opens the store (and migrates it); throws when the database cannot be used.
    ///   - firstDelay: the wait after the first failed attempt (doubling, up to 30 s).
    ///   - onConnected: runs once, after the store is connected.
    public init(
        name: String, logger: Logger, firstDelay: Duration = .seconds(1),
        onConnected: @escaping @Sendable (any Store) async -> Void = { _ in },
        connect: @escaping @Sendable () async throws -> any Store
    ) {
        self.name = name
        self.firstDelay = firstDelay
        self.logger = logger
        self.connect = connect
        self.onConnected = onConnected
    }

    /// Whether the database has been reached.
    public var isConnected: Bool {
        state.withLock { if case .ready = $0 { true } else { false } }
    }

    /// The connected store; throws `StoreError.notConnected` until then, `StoreError.closed` after `close()`.
    func connected() throws -> any Store {
        try state.withLock { state in
            switch state {
            case .connecting: throw StoreError.notConnected
            case .ready(let store): return store
            case .closed: throw StoreError.closed
            }
        }
    }

    /// Itself: `run()` connects, then runs the connected store's services.
    public var services: [any Service] { [self] }

    public func run() async throws {
        guard let store = await connectWithRetries() else { return }
        let published: Bool = state.withLock { state in
            guard case .connecting = state else { return false }
            state = .ready(store)
            return true
        }
        guard published else {
            // Closed while the last attempt was under way: nothing may use it.
            try? await store.close()
            return
        }
        logger.notice("database connected", metadata: ["herald.db": "\(name)"])
        for observer in observers.withLock({ $0 }) { store.observeChanges(observer) }
        await onConnected(store)
        let services = store.services
        try await withThrowingDiscardingTaskGroup { group in
            for service in services { group.addTask { try await service.run() } }
            if services.isEmpty { try? await gracefulShutdown() }
        }
    }

    /// Attempts until one succeeds; nil when the service is stopped first.
    private func connectWithRetries() async -> (any Store)? {
        var delay = firstDelay
        var lastLogged: ContinuousClock.Instant?
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            if case .closed = state.withLock({ $0 }) { return nil }
            do {
                return try await connect()
            } catch {
                let now = ContinuousClock.now
                if lastLogged.map({ now - $0 >= reminderInterval }) ?? true {
                    lastLogged = now
                    logger.error(
                        "database unreachable, retrying",
                        metadata: ["herald.db": "\(name)", "herald.reason": "\(error)"])
                }
            }
            do {
                let wait = delay
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: wait) }
            } catch {
                return nil
            }
            delay = min(delay * 2, longestDelay)
        }
        return nil
    }

    public func ping() async throws { try await connected().ping() }

    /// Handed to the store when it connects (or at once when it is connected).
    public func observeChanges(_ handler: @escaping @Sendable (StoreChange) -> Void) {
        let store = state.withLock { state -> (any Store)? in
            if case .ready(let store) = state { return store }
            observers.withLock { $0.append(handler) }
            return nil
        }
        store?.observeChanges(handler)
    }

    /// The connected store's pacing, taken when the first send needs it (the dispatcher is built
    /// before the database answers).
    public func sharedPacer(limits: [String: PacingLimits]) -> (any SendPacing)? {
        ConnectedPacer(connection: self, limits: limits)
    }

    public func close() async throws {
        let previous = state.withLock { state in
            defer { state = .closed }
            return state
        }
        if case .ready(let store) = previous { try await store.close() }
    }
}
