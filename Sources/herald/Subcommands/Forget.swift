import ArgumentParser
import Foundation
import HeraldCore
import HeraldServer
import HeraldStore

extension Herald {
    struct Forget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase one customer's number from the store, keeping an opt-out as a hash.",
            discussion: """
                herald forget NUMBER

                The number is read as the rules read recipients (national in defaults.country). Every \
                event whose stored body mentions it in any spelling, or that messaged it, keeps only its \
                keys and times (a redelivery is still a duplicate); messages to it or of those events lose \
                their text and keep a hash as recipient; orders forget what they remembered of the \
                customer. Its suppression entries stay under a hash of the number, so an opt-out \
                survives; a number that had none gets none (forget is not an opt-out: add one with \
                herald suppressions add first if the customer must not be messaged again). All in one \
                transaction; then the file is rewritten (VACUUM) and the WAL emptied, so the old bytes do \
                not linger. Backups made before still hold the number.

                Exit status: 0 done; 1 no store; 2 bad arguments.
                """)

        @Option(help: "The rules file (its defaults.country reads national numbers; locates the default database).")
        var rules: String = "rules.yaml"

        @OptionGroup var storeOptions: StoreOptions

        @Argument(help: "The phone number (E.164, or national in the rules' defaults.country).")
        var number: String

        func run() async throws {
            let ruleSet = try NumberArgument.rulesIfPresent(rules)
            let e164: String
            switch NumberArgument.e164(number, ruleSet: ruleSet) {
            case .success(let valid): e164 = valid
            case .failure(let problem):
                printError("error: '\(LogSafe.redactingPhones(number))': \(problem)")
                throw ExitCode(2)
            }
            try storeOptions.requireSQLite(command: "forget", instead: "not supported on PostgreSQL yet")
            let store = try storeOptions.openExistingSQLite(rules: rules)
            let outcome: Result<ForgetCounts, any Error>
            do {
                outcome = .success(try await store.forget(number: e164, defaultCountry: ruleSet?.defaults.country))
            } catch {
                outcome = .failure(error)
            }
            try await store.close()
            let counts = try outcome.get()
            print(
                "forgot \(LogSafe.phone(e164)): \(counts.events) events, \(counts.messages) messages redacted, "
                    + "\(counts.suppressions) suppressions kept as a hash"
                    + (counts.receipts > 0 ? ", \(counts.receipts) receipts redacted" : ""))
        }
    }
}
