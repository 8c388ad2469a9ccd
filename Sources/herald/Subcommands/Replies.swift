import ArgumentParser
import Foundation
import HeraldCore
import HeraldServer
import HeraldStore

extension Herald {
    struct Replies: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List what customers replied to the channels' numbers.",
            discussion: """
                Replies reach Herald on /receipts/{channel}. A reply that is one of the channel's opt_out \
                keywords (STOP, ARRET, توقف, …) put the number on the suppression list, an opt_in keyword \
                (START, …) lifted it; their ACTION column says which. Other replies are kept and listed \
                here, never acted on.

                Exit status: 0 listed (or none); 1 no store; 2 bad arguments.
                """)

        @Option(help: "The rules file (its defaults.country reads national numbers; locates the default database).")
        var rules: String = "rules.yaml"

        @OptionGroup var storeOptions: StoreOptions

        @OptionGroup var displayTime: DisplayTimeOptions

        @Option(help: "Only replies from this number (E.164, or national in the rules' defaults.country).")
        var number: String?

        @Option(help: "At most this many replies.")
        var limit: Int = 50

        @Flag(help: "Show full phone numbers (masked by default).")
        var reveal = false

        func run() async throws {
            var sender: String?
            if let number {
                switch NumberArgument.e164(number, ruleSet: try NumberArgument.rulesIfPresent(rules)) {
                case .success(let e164): sender = e164
                case .failure(let problem):
                    printError("error: '\(number)': \(problem)")
                    throw ExitCode(2)
                }
            }
            let store = try await storeOptions.openExisting(rules: rules)
            let replies: [StoredReceipt]
            do {
                replies = try await store.replies(sender: sender, limit: limit)
            } catch {
                try await store.close()
                throw error
            }
            try await store.close()
            guard !replies.isEmpty else {
                print("no replies")
                return
            }
            let zone = displayTime.timeZone(rules: rules)
            var rows = [["SENT (\(Timestamp.name(of: zone)))", "CHANNEL", "FROM", "ACTION", "TEXT"]]
            for reply in replies {
                let from = reply.sender ?? "-"
                rows.append([
                    Timestamp.format(reply.occurredAt ?? reply.receivedAt, in: zone), reply.channel,
                    reveal ? from : LogSafe.phone(from), Self.action(reply),
                    (reply.body ?? "").replacingOccurrences(of: "\n", with: " "),
                ])
            }
            for line in TextTable.lines(rows) { print(line) }
        }

        /// `opt-out`, `opt-in (sms)` for a channel-scoped keyword, `-` for any other reply.
        static func action(_ reply: StoredReceipt) -> String {
            guard let action = reply.optAction else { return "-" }
            return action + (reply.optScope.map { " (\($0))" } ?? "")
        }
    }
}
