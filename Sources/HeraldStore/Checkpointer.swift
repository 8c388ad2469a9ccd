import Foundation
import GRDB
import ServiceLifecycle

/// Copies the WAL back into the database file every half second on a connection of its own,
/// in PASSIVE mode (it never waits for, nor blocks, the writer), so commits never pay for it.
///
/// One of `SQLiteStore.services`: `herald serve` runs it in its service group, where it stops
/// after the store has closed. Whether it ran or not, the last connection to close checkpoints
/// whatever is left.
struct Checkpointer: Service {
    let path: String
    var interval: Duration = .milliseconds(500)

    func run() async throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(1)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try await queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                break
            }
            try? await queue.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)")
            }
        }
        try? queue.close()
    }
}
