import ArgumentParser
import Foundation
import HeraldStore

extension Herald {
    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put failed or held messages back in the queue (same idempotency key, so never sent twice).")

        @Option(help: "The rules file (locates the default database).")
        var rules: String = "rules.yaml"

        @OptionGroup var storeOptions: StoreOptions

        @Flag(help: "Also release messages whose outcome is unknown (they may have gone out: sent again on your word).")
        var force = false

        @Argument(help: "Message ids, as herald messages lists them.")
        var ids: [Int64]

        func run() async throws {
            let store = try storeOptions.openExisting(rules: rules)
            let released = try await store.release(ids: ids, at: Date(), force: force)
            try await store.close()
            let skipped = ids.filter { !released.contains($0) }
            print("released \(released.count) message\(released.count == 1 ? "" : "s")\(released.isEmpty ? "" : ": \(released.map(String.init).joined(separator: " "))")")
            if !skipped.isEmpty {
                printError("not released (unknown, already sent or still queued): \(skipped.map(String.init).joined(separator: " "))")
                throw ExitCode(1)
            }
        }
    }
}
