import ArgumentParser
import Foundation
import HeraldCore
import HeraldServer
import HeraldStore

extension Herald {
    struct Suppressions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List, add or remove the numbers Herald sends nothing to (opt-outs).",
            discussion: """
                herald suppressions [list [NUMBER]]
                herald suppressions add NUMBER [--channel C] [--reason TEXT]
                herald suppressions remove NUMBER [--channel C]

                A number is read as the rules read recipients: national numbers in defaults.country. \
                Without --channel an entry covers every channel; remove without --channel takes every \
                entry of the number off the list. A message to a suppressed number ends `suppressed` \
                and reaches no provider. Twilio's 21610 (the customer replied STOP) adds the number \
                by itself (source provider-error).

                Exit status: 0 done; 1 no store, or remove found nothing to remove; 2 bad arguments.
                """)

        enum Action: String, ExpressibleByArgument, CaseIterable {
            case list, add, remove
        }

        @Option(help: "The rules file (its defaults.country reads national numbers; locates the default database).")
        var rules: String = "rules.yaml"

        @OptionGroup var storeOptions: StoreOptions

        @Argument(help: "list (the default), add or remove.")
        var action: Action = .list

        @Argument(help: "The phone number (E.164, or national in the rules' defaults.country).")
        var number: String?

        @Option(help: "Only this channel (its name in rules.yaml); default: every channel.")
        var channel: String?

        @Option(help: "Why the number is suppressed (add).")
        var reason: String = "added by the operator"

        @Flag(help: "Show full phone numbers (masked by default).")
        var reveal = false

        func run() async throws {
            let number = try validatedNumber()
            let store = try await storeOptions.openExisting(rules: rules)
            let outcome: Result<Void, any Error>
            do {
                outcome = .success(try await perform(on: store, number: number))
            } catch {
                outcome = .failure(error)
            }
            try await store.close()
            try outcome.get()
        }

        func perform(on store: any Store, number: String?) async throws {
            switch action {
            case .list:
                try await list(store, number: number)
            case .add:
                guard let number else { return }
                let entry = Suppression(
                    number: number, scope: Suppression.Scope(channel: channel), reason: reason, source: .operator,
                    createdAt: Date())
                let changed = try await store.addSuppression(entry)
                print("\(changed ? "suppressed" : "already suppressed:") \(show(number)) on \(entry.scope)")
            case .remove:
                guard let number else { return }
                let scope = channel.map(Suppression.Scope.channel)
                let removed = try await store.removeSuppressions(number: number, scope: scope)
                guard !removed.isEmpty else {
                    printError(
                        "error: \(show(number)) is not on the suppression list\(scope.map { " for \($0)" } ?? "")")
                    throw ExitCode(1)
                }
                for entry in removed {
                    print("removed \(show(entry.number)) on \(entry.scope) (\(entry.source.rawValue): \(entry.reason))")
                }
            }
        }

        /// The number in E.164 (nil for a plain list), after checking the arguments; a message and
        /// exit status 2 when they are wrong.
        func validatedNumber() throws -> String? {
            if action != .list, number == nil {
                printError("error: herald suppressions \(action.rawValue) needs a NUMBER")
                throw ExitCode(2)
            }
            if action == .list, channel != nil {
                printError("error: --channel is for add and remove; list shows every entry")
                throw ExitCode(2)
            }
            // The rules give the country of national numbers and the channels' names; without a
            // rules file, numbers must be written with their country code.
            let ruleSet = try NumberArgument.rulesIfPresent(rules)
            if let channel, let names = ruleSet?.channels.map(\.name), !names.contains(channel) {
                printError(
                    "error: --channel '\(channel)' is not a channel of \(rules) (\(names.joined(separator: ", ")))")
                throw ExitCode(2)
            }
            guard let number else { return nil }
            switch NumberArgument.e164(number, ruleSet: ruleSet) {
            case .success(let e164):
                return e164
            case .failure(let problem):
                // An entry already on the list may be removed whatever the number has become.
                if action == .remove, number.wholeMatch(of: /\+[0-9]{6,15}/) != nil { return number }
                printError("error: '\(number)': \(problem)")
                throw ExitCode(2)
            }
        }

        func list(_ store: any Store, number: String?) async throws {
            let entries = try await store.suppressions(numbers: number.map { [$0] })
            guard !entries.isEmpty else {
                print("no suppressions")
                return
            }
            var rows = [["NUMBER", "CHANNEL", "SOURCE", "SINCE (UTC)", "REASON"]]
            for entry in entries {
                rows.append([
                    show(entry.number), entry.scope.channel ?? "all", entry.source.rawValue,
                    Timestamp.format(entry.createdAt), entry.reason,
                ])
            }
            for line in TextTable.lines(rows) { print(line) }
        }

        func show(_ number: String) -> String {
            // `herald forget` keeps an opt-out under the number's hash: there is no number to show.
            if NumberHash.isHash(number) { return "(forgotten, hash \(NumberHash.digits(of: number).prefix(8))…)" }
            return reveal ? number : LogSafe.phone(number)
        }
    }
}
