import ArgumentParser
import Foundation
import HeraldCore
import HeraldServer
import HeraldStore

extension Herald {
    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete events and messages older than a number of days.",
            discussion: """
                herald prune --older-than DAYS [--dry-run]

                Deletes messages created more than DAYS days ago that are finished (sent, delivered, \
                read, undelivered, failed or suppressed; receipts, when stored, go with their message), \
                and the bodies, headers and derived values of events received more than DAYS days ago \
                whose messages are all gone. What stays: each pruned event's provider, dedupe key, times, \
                order reference and status (a redelivery is still a duplicate, neither processed nor \
                messaged again), and each order's last status and time (staleness and previous status); \
                an order whose last event was pruned forgets what it remembered of its customer. Unfinished \
                work (pending, sending, unknown, held messages, unprocessed events) is never pruned. Rows \
                are deleted 1000 per transaction, so a running herald serve keeps answering.

                Exit status: 0 done; 1 no store; 2 bad arguments.
                """)

        @Option(help: "The rules file (locates the default database).")
        var rules: String = "rules.yaml"

        @OptionGroup var storeOptions: StoreOptions

        @Option(help: "Delete what is older than this many days (a whole number, 1 or more).")
        var olderThan: String

        @Flag(help: "Count what would be deleted; delete nothing.")
        var dryRun = false

        func run() async throws {
            guard let days = Int(olderThan), days > 0 else {
                printError("error: --older-than must be a whole number of days, 1 or more (not '\(olderThan)')")
                throw ExitCode(2)
            }
            try storeOptions.requireSQLite(command: "prune", instead: "not supported on PostgreSQL yet")
            let store = try storeOptions.openExistingSQLite(rules: rules)
            let cutoff = RetentionService.cutoff(days: days, now: Date())
            let outcome: Result<PruneCounts, any Error>
            do {
                outcome = .success(try await store.prune(before: cutoff, dryRun: dryRun))
            } catch {
                outcome = .failure(error)
            }
            try await store.close()
            let counts = try outcome.get()
            let verb = dryRun ? "would prune" : "pruned"
            print(
                "\(verb) \(counts.events) events, \(counts.messages) messages"
                    + (counts.receipts > 0 ? ", \(counts.receipts) receipts" : "")
                    + " older than \(days) days (before \(Timestamp.format(cutoff)))")
        }
    }
}
