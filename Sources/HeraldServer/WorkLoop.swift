import HeraldStore
import Logging
import ServiceLifecycle

/// Runs a unit of work while the server runs: again at once while there is work, otherwise when
/// woken or after `idleInterval`. SIGTERM ends the loop between units (and ends its wait).
///
/// A failing unit (the database gone: every store call fails within `--db-timeout`) is tried
/// again after a wait that doubles from `idleInterval` up to `longestBackoff`, so a database that
/// is down is not asked several times a second, and one that is back is used again within that
/// time. The failure is logged once, then at most once a minute while it lasts, and its end with
/// `work resumed`.
public struct WorkLoop: Service {
    public var name: String
    public var work: @Sendable () async throws -> Int
    public var wakeup: Wakeup
    public var idleInterval: Duration
    public var logger: Logger
    /// The longest wait between two failing units.
    public var longestBackoff: Duration = .seconds(5)
    /// How often a failure that goes on is logged again.
    public var reminderInterval: Duration = .seconds(60)

    public init(
        name: String, wakeup: Wakeup, idleInterval: Duration, logger: Logger,
        work: @escaping @Sendable () async throws -> Int
    ) {
        self.name = name
        self.work = work
        self.wakeup = wakeup
        self.idleInterval = idleInterval
        self.logger = logger
    }

    public func run() async throws {
        let wakeup = wakeup
        try await withGracefulShutdownHandler {
            try await loop()
        } onGracefulShutdown: {
            wakeup.signal()
        }
    }

    private func loop() async throws {
        var failures = 0
        var lastLogged: ContinuousClock.Instant?
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            var wait = idleInterval
            do {
                let done = try await work()
                if failures > 0 {
                    logger.notice(
                        "work resumed", metadata: ["herald.loop": "\(name)", "herald.failures": "\(failures)"])
                    (failures, lastLogged) = (0, nil)
                }
                if done > 0 { continue }
            } catch is CancellationError {
                return  // the group is stopping (SIGTERM, or another service failed): not a failure
            } catch let error as StoreError where error == .notConnected {
                // `StoreConnection` logs the outage itself: the loop waits for the database quietly.
            } catch {
                if Task.isCancelled { return }
                failures += 1
                wait = min(idleInterval * (1 << min(failures, 16)), max(longestBackoff, idleInterval))
                let now = ContinuousClock.now
                if lastLogged.map({ now - $0 >= reminderInterval }) ?? true {
                    lastLogged = now
                    logger.error(
                        "work failed; will try again",
                        metadata: [
                            "herald.loop": "\(name)", "herald.failures": "\(failures)", "error": "\(error)",
                        ])
                }
            }
            await wakeup.wait(timeout: wait)
        }
    }
}
