import ArgumentParser
import Foundation
import HeraldStore
import Logging

extension Herald {
    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the SQLite store into an empty PostgreSQL database, every table.",
            discussion: """
                Stop herald serve first: the copy reads the SQLite file as it stands (read-only). Every \
                row comes along with its id: events (a redelivery stays a duplicate), order state, the \
                outbox with each message's state, attempts and lease (nothing is sent again), the \
                suppression list with forgotten numbers' hashes and the secret that makes them, and the \
                idempotency keys of pruned messages. One transaction: all or nothing. The database must \
                be empty (merging two histories could send twice). Then start herald serve with \
                --db postgres://….
                """)

        @Option(help: "The SQLite store to read (herald.sqlite).")
        var from: String

        @Option(help: "The PostgreSQL database: postgres://USER:PASSWORD@HOST:PORT/DB[?sslmode=…].")
        var to: String

        func run() async throws {
            guard FileManager.default.fileExists(atPath: from) else {
                printError("\(from): error: no such file (--from names the SQLite store to copy)")
                throw ExitCode(1)
            }
            let url: PostgresURL
            do {
                url = try PostgresURL(parsing: to)
            } catch {
                printError("error: --to: \(error)")
                throw ExitCode(2)
            }
            var logger = Logger(label: "herald")
            logger.logLevel = .error
            let store: PostgresStore
            do {
                store = try await PostgresStore.connect(url, logger: logger)
            } catch {
                printError("error: \(error)")
                throw ExitCode(1)
            }
            let summary: CopySummary
            do {
                summary = try await store.copy(fromSQLiteAt: from)
            } catch {
                try? await store.close()
                printError("error: \(error)")
                throw ExitCode(1)
            }
            try? await store.close()
            let counts = [
                (summary.events, "event"), (summary.orders, "order"), (summary.messages, "message"),
                (summary.suppressions, "suppression"), (summary.settings, "setting"),
                (summary.prunedKeys, "pruned key"), (summary.receipts, "receipt"),
            ].map { count, noun in "\(count) \(noun)\(count == 1 ? "" : "s")" }
            print("copied \(counts.joined(separator: ", ")) to \(url)")
        }
    }
}
