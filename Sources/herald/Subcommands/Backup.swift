import ArgumentParser
import Foundation
import HeraldStore

extension Herald {
    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the SQLite store to a file, safely while herald serve is running.",
            discussion: """
                The copy is the store as it was when the backup started (every event committed before \
                is in it), consistent and compact; the server keeps answering meanwhile. Do not copy \
                the .sqlite file with cp while the server runs: recent commits are still in the -wal file. \
                Restore by stopping the server and putting the copy in place of the database \
                (with no -wal or -shm file left next to it).
                """)

        @Option(help: "The rules file (locates the default database).")
        var rules: String = "rules.yaml"

        @OptionGroup var storeOptions: StoreOptions

        @Option(help: "The file to write; refused if it exists, unless --force.")
        var out: String

        @Flag(help: "Replace --out if it exists.")
        var force = false

        func run() async throws {
            try storeOptions.requireSQLite(command: "backup", instead: "for PostgreSQL use pg_dump")
            let database = storeOptions.path(rules: rules)
            do {
                let summary = try SQLiteStore.backup(databaseAt: database, to: out, replacing: force)
                let megabytes = String(format: "%.1f", Double(summary.bytes) / 1_048_576)
                print(
                    "backed up \(summary.events) event\(summary.events == 1 ? "" : "s"), "
                        + "\(summary.messages) message\(summary.messages == 1 ? "" : "s") to \(out) (\(megabytes) MB)")
            } catch {
                printError(error.description)
                throw ExitCode(1)
            }
        }
    }
}
