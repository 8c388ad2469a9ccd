import Foundation
import HeraldStore
import Logging
import ServiceLifecycle

/// `herald serve --retention-days DAYS`: prunes what is older than DAYS once at start, then at
/// every `interval` (an hour), the way `herald prune` does, logging one line per run with the
/// counts. It runs in the service group and stops with it.
public struct RetentionService: Service {
    let store: SQLiteStore
    let days: Int
    let interval: Duration
    let clock: @Sendable () -> Date
    let logger: Logger

    public init(
        store: SQLiteStore, days: Int, interval: Duration = .seconds(3600),
        clock: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.store = store
        self.days = days
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    /// What is older than this is pruned, `days` days before `now`.
    public static func cutoff(days: Int, now: Date) -> Date {
        now.addingTimeInterval(-Double(days) * 86_400)
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await pruneOnce()
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
        }
    }

    /// One prune; failures are logged and the next run tries again.
    @discardableResult
    public func pruneOnce() async -> PruneCounts? {
        let cutoff = Self.cutoff(days: days, now: clock())
        do {
            let counts = try await store.prune(before: cutoff)
            logger.info(
                "retention: pruned",
                metadata: [
                    "herald.events": "\(counts.events)", "herald.messages": "\(counts.messages)",
                    "herald.receipts": "\(counts.receipts)",
                    "herald.retention_days": "\(days)",
                ])
            return counts
        } catch {
            logger.error("retention: prune failed", error: error, metadata: ["herald.retention_days": "\(days)"])
            return nil
        }
    }
}
