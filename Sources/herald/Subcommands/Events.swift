import ArgumentParser
import Foundation
import HeraldCore
import HeraldStore

extension Herald {
    struct Events: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List received webhooks, most recent first.")

        @Option(help: "The rules file (locates the default database).")
        var rules: String = "rules.yaml"

        @OptionGroup var storeOptions: StoreOptions

        @OptionGroup var displayTime: DisplayTimeOptions

        @Option(help: "Only this provider's events.")
        var provider: String?

        @Flag(help: "Only events whose body could not be used (invalid JSON, missing fields) or had unreadable values.")
        var failed = false

        @Option(help: "At most this many events.")
        var limit: Int = 50

        func run() async throws {
            let store = try await storeOptions.openExisting(rules: rules)
            let events = try await store.events(EventQuery(provider: provider, failedOnly: failed, limit: limit))
            try await store.close()
            print(EventTable.render(events, timeZone: displayTime.timeZone(rules: rules)))
        }
    }
}

/// The text table `herald events` prints. Bodies, headers and phone numbers are not shown.
enum EventTable {
    static func render(_ events: [StoredEvent], timeZone: TimeZone) -> String {
        guard !events.isEmpty else { return "no events" }
        let received = "RECEIVED (\(Timestamp.name(of: timeZone)))"
        var rows = [["ID", received, "PROVIDER", "EVENT", "ORDER", "STATUS", "NOTE"]]
        for event in events {
            var status = event.status ?? "-"
            if let previous = event.previousStatus { status = "\(previous) → \(status)" }
            var notes: [String] = []
            if event.stale { notes.append("stale") }
            if event.deliveries > 1 { notes.append("delivered \(event.deliveries)×") }
            if let error = event.parseError { notes.append("parse error: \(error)") }
            if let problems = event.fieldProblems { notes.append("unreadable: \(problems)") }
            if event.redactedAt != nil { notes.append("body deleted (prune or forget)") }
            rows.append([
                "\(event.id)", Timestamp.format(event.receivedAt, in: timeZone), event.provider, event.eventName ?? "-",
                event.orderReference ?? "-", status, notes.joined(separator: "; "),
            ])
        }
        return TextTable.lines(rows).joined(separator: "\n")
    }
}
