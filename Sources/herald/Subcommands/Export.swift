import ArgumentParser
import Foundation
import HeraldCore
import HeraldStore

extension Herald {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write captured webhooks from the store as envelope files for herald dry-run.",
            discussion: """
                One file per event, OUT/<provider>/<received time>-<id>.json, raw body byte for byte
                (body_base64 when it is not UTF-8). File names sort in arrival order. Values of secret
                headers (header-token schemes) were never stored and stay [redacted].
                """)

        @Option(help: "The rules file (locates the default database).")
        var rules: String = "rules.yaml"

        @OptionGroup var storeOptions: StoreOptions

        @Option(help: "The folder to write into (created if needed).")
        var out: String

        @Option(help: "Only this provider's events.")
        var provider: String?

        @Option(help: "Only events received at or after this ISO 8601 time.")
        var since: String?

        func run() async throws {
            var sinceDate: Date?
            if let since {
                guard let date = Timestamp.parse(since, defaultTimeZone: TimeZone(identifier: "UTC")!) else {
                    printError("error: --since '\(since)' is not an ISO 8601 date")
                    throw ExitCode(2)
                }
                sinceDate = date
            }
            let store = try await storeOptions.openExisting(rules: rules)
            var written = 0
            var afterID: Int64 = 0
            let manager = FileManager.default
            while true {
                let batch = try await store.eventsAfter(id: afterID, provider: provider, since: sinceDate, limit: 500)
                guard let last = batch.last else { break }
                afterID = last.id
                for event in batch {
                    let folder = (out as NSString).appendingPathComponent(event.provider)
                    try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
                    let stamp = Timestamp.format(event.receivedAt).replacingOccurrences(of: ":", with: "")
                    let file = (folder as NSString).appendingPathComponent(String(format: "%@-%08lld.json", stamp, event.id))
                    let text = CapturedInput.envelope(
                        provider: event.provider, headers: event.headers, body: event.body, receivedAt: event.receivedAt,
                        deliveryID: event.deliveryID)
                    try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: file))
                    written += 1
                }
            }
            try await store.close()
            printError("wrote \(written) envelope\(written == 1 ? "" : "s") to \(out)")
        }
    }
}
