import ArgumentParser
import Foundation
import HeraldCore
import HeraldServer
import HeraldStore

extension Herald {
    struct Messages: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the outbox: what was planned for each order, its state and last error.")

        @Option(help: "The rules file (locates the default database).")
        var rules: String = "rules.yaml"

        @OptionGroup var storeOptions: StoreOptions

        @OptionGroup var displayTime: DisplayTimeOptions

        @Option(help: "Only this order's messages.")
        var order: String?

        @Option(
            help: """
                Only messages in this state: pending, sending, unknown, sent, delivered, read, undelivered, failed, \
                held, suppressed.
                """)
        var state: String?

        @Option(help: "At most this many messages.")
        var limit: Int = 50

        @Flag(help: "Show recipients' full phone numbers (masked by default).")
        var reveal = false

        @Flag(help: "Show each message's text.")
        var text = false

        func run() async throws {
            var wanted: OutboxMessage.State?
            if let state {
                guard let parsed = OutboxMessage.State(rawValue: state) else {
                    let states = OutboxMessage.State.allCases.map(\.rawValue).joined(separator: ", ")
                    printError("error: --state must be one of \(states)")
                    throw ExitCode(2)
                }
                wanted = parsed
            }
            let store = try await storeOptions.openExisting(rules: rules)
            let messages = try await store.messages(MessageQuery(orderReference: order, state: wanted, limit: limit))
            try await store.close()
            let zone = displayTime.timeZone(rules: rules)
            guard !messages.isEmpty else {
                print("no messages")
                return
            }
            // SMS: the encoding and segments the message was planned with (SMSEncoding.of, as in dry-run).
            let created = "CREATED (\(Timestamp.name(of: zone)))"
            var rows = [
                ["ID", created, "ORDER", "RULE", "CHANNEL", "TO", "LOCALE", "SMS", "STATE", "TRIES", "NOTE"]
            ]
            for m in messages {
                var note = m.lastError ?? m.providerMessageID ?? ""
                if m.state == .pending, let due = m.nextAttemptAt {
                    note = "due \(Timestamp.format(due, in: zone))" + (note.isEmpty ? "" : "; \(note)")
                }
                if m.state == .unknown, let due = m.nextAttemptAt {
                    note = "lookup \(Timestamp.format(due, in: zone))" + (note.isEmpty ? "" : "; \(note)")
                }
                if let step = Self.deliveryNote(m, zone: zone) { note = step + (note.isEmpty ? "" : "; \(note)") }
                rows.append([
                    "\(m.id)", Timestamp.format(m.createdAt, in: zone), m.orderReference ?? "-", m.rule, m.channel,
                    reveal ? m.recipient : LogSafe.phone(m.recipient), m.locale,
                    m.segments.map { "\(m.encoding ?? "?")×\($0)" } ?? "-", m.state.rawValue, "\(m.attempts)", note,
                ])
            }
            for (index, line) in TextTable.lines(rows).enumerated() {
                print(line)
                if text, index > 0 { print("    │ \(messages[index - 1].text)") }
            }
        }

        /// What receipts said of a message, with when: `read 2026-…`, `undelivered 2026-… (30003)`.
        static func deliveryNote(_ m: OutboxMessage, zone: TimeZone) -> String? {
            let step: (String, Date?)? =
                switch m.state {
                case .delivered: ("delivered", m.progress.deliveredAt)
                case .read: ("read", m.progress.readAt)
                case .undelivered: ("undelivered", m.progress.undeliveredAt)
                default: nil
                }
            guard let step else { return nil }
            let (name, time) = step
            var note = name + (time.map { " " + Timestamp.format($0, in: zone) } ?? "")
            if m.state == .undelivered, let code = m.progress.errorCode { note += " (\(code))" }
            return note
        }
    }
}
