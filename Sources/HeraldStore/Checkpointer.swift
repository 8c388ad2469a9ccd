import Foundation
import GRDB

/// Copies the WAL back into the database file every half second on a connection of its own,
/// in PASSIVE mode (it never waits for, nor blocks, the writer), so commits never pay for it.
/// The last connection to close checkpoints whatever is left.
final class Checkpointer: Sendable {
    private let task: Task<Void, Never>

    init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(1)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        task = Task.detached(priority: .utility) {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                if Task.isCancelled { break }
                try? await queue.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)")
                }
            }
            try? queue.close()
        }
    }

    func stop() async {
        task.cancel()
        await task.value
    }
}
