import ArgumentParser
import Foundation
import HeraldCore
import HeraldServer
import HeraldStore
import Logging

extension Herald {
    struct DryRun: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dry-run",
            abstract: "Run the rules against captured webhooks and show what would be sent. Writes nothing.",
            discussion: """
                PATH is a file or a folder (read recursively, *.json and *.jsonl, in name order). Each
                .json file is an envelope written by `herald export` or a bare JSON body whose provider
                is --provider or its folder's name (samples/<provider>/…); each line of a .jsonl file
                is one of those (a line that is not JSON: FILE:LINE:COLUMN: error on stderr).
                An input that fails verification lists no message (the worker answers it 401); its rules
                are still shown. Exit status: 0 every input was read and verified (or had nothing to
                verify) and no message would fail; 1 some input could not be read, parsed or verified
                (the others are still reported), a message would fail, or --expect found differences;
                2 the rules or templates do not load (a missing or empty templates folder included).
                Held, deferred, duplicate, stale and suppressed messages do not change the status.
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case text, json
        }

        @OptionGroup var rulesOptions: RulesOptions

        @Option(help: "The provider of bare bodies (otherwise their folder's name).")
        var provider: String?

        @Option(help: "text (for people) or json (JSON Lines, one object per input).")
        var format: Format = .text

        @Option(
            help: "The moment quiet hours are judged at, ISO 8601 (default: each envelope's received_at, else now).")
        var now: String?

        @Option(help: "Render every message in this locale.")
        var locale: String?

        @Option(help: "Start from this live store's order state, outbox and suppression list (read only).")
        var db: String?

        @Option(help: "Compare the JSON Lines output with this saved file and print the differences.")
        var expect: String?

        @Flag(help: "Show recipients' full phone numbers in the text output (masked by default; JSON keeps them).")
        var reveal = false

        @Argument(help: "Files or folders of captured webhooks.")
        var paths: [String]

        /// Larger files are refused unread: a captured body is at most a few hundred kilobytes.
        static let maxInputSize = 8 << 20

        func run() async throws {
            let ruleSet = try rulesOptions.loadRuleSet(failure: 2)
            let templates = try rulesOptions.loadTemplates(failure: 2)
            var moment: Date?
            if let now {
                guard let parsed = Timestamp.parse(now, defaultTimeZone: ruleSet.defaults.timeZone) else {
                    printError("error: --now '\(now)' is not an ISO 8601 date")
                    throw ExitCode(2)
                }
                moment = parsed
            }
            let session = DryRunSession(ruleSet: ruleSet, templates: templates, now: moment, localeOverride: locale)
            if let db {
                do {
                    let store: any Store
                    if PostgresURL.isPostgres(db) {
                        var quiet = Logger(label: "herald")
                        quiet.logLevel = .error
                        store = try await PostgresStore.connect(PostgresURL(parsing: db), logger: quiet)
                    } else {
                        store = try SQLiteStore.openExisting(path: db)
                    }
                    for state in try await store.orderStates() { session.knowOrder(state) }
                    // The live outbox: a message it already holds would not be sent again.
                    for message in try await store.messages(MessageQuery(limit: Int.max)) {
                        session.knowMessage(
                            idempotencyKey: message.idempotencyKey, source: "outbox message \(message.id)")
                    }
                    // The live suppression list: a message to a number on it would not be sent.
                    for entry in try await store.suppressions(numbers: nil) {
                        session.knowSuppression(
                            number: entry.number, channel: entry.scope.channel,
                            reason: "\(entry.reason) (\(entry.source.rawValue))")
                    }
                    try await store.close()
                } catch {
                    // A postgres:// URL is named with its password masked.
                    let name = PostgresURL.masked(db)
                    printError("\(name): error: \(error)")
                    throw ExitCode(2)
                }
            }

            var jsonLines: [String] = []
            var anyFailed = false
            var output = OutputBuffer()
            // Each result is written as it is produced and the buffer goes out a megabyte at a
            // time: nothing about earlier inputs is kept but the session's order state and keys
            // (and, with --expect, the lines to compare).
            func emit(_ result: DryRunResult) throws {
                anyFailed = anyFailed || result.failed
                switch format {
                case .json:
                    let start = output.bytes.count
                    output.append { result.appendJSONLine(to: &$0) }
                    if expect != nil { jsonLines.append(String(decoding: output.bytes[start...], as: UTF8.self)) }
                    output.append("\n")
                case .text:
                    output.append(result.textBlock(phone: { reveal ? $0 : LogSafe.phone($0) }) + "\n\n")
                    if expect != nil { jsonLines.append(result.jsonLine()) }
                }
                try output.flushIfFull()
            }
            var files = InputFiles.Walk(paths)
            while let file = files.next() {
                let folderProvider = file.folder.flatMap { ruleSet.provider(named: $0) == nil ? nil : $0 }
                if file.path.hasSuffix(".jsonl") {
                    try InputFiles.forEachLine(file, maxSize: Self.maxInputSize) { number, line in
                        // Line 0: the file itself could not be read.
                        let name = number == 0 ? file.display : "\(file.display):\(number)"
                        switch line {
                        case .failure(let error): try emit(session.unreadable(name, error.message))
                        case .success(let bytes):
                            switch CapturedInput.decode(
                                name: name, bytes: Array(bytes), providerOverride: provider,
                                folderProvider: folderProvider, requireJSON: true)
                            {
                            case .failure(let error):
                                // file:line:col, as compilers and `herald check` point at a place.
                                if let offset = error.offset {
                                    printError("\(name):\(offset + 1): error: \(error.message)")
                                }
                                try emit(session.unreadable(name, error.message))
                            case .success(let input): try emit(session.process(input))
                            }
                        }
                    }
                    continue
                }
                let result: DryRunResult
                switch InputFiles.read(file, maxSize: Self.maxInputSize) {
                case .failure(let error):
                    result = session.unreadable(file.display, error.message)
                case .success(let bytes):
                    switch CapturedInput.decode(
                        name: file.display, bytes: bytes, providerOverride: provider, folderProvider: folderProvider)
                    {
                    case .failure(let error): result = session.unreadable(file.display, error.message)
                    case .success(let input): result = session.process(input)
                    }
                }
                try emit(result)
            }
            if format == .text { output.append(session.summary.text + "\n") }
            try output.flush()
            if let expect {
                let differences = try ExpectedOutput.compare(actual: jsonLines, expectedFile: expect)
                if !differences.isEmpty {
                    printError(differences.joined(separator: "\n"))
                    let inputs = differences.filter { !$0.hasPrefix(" ") }.count
                    printError("\(inputs) input\(inputs == 1 ? " differs" : "s differ") from \(expect)")
                    throw ExitCode(1)
                }
                printError("output matches \(expect)")
            }
            if anyFailed { throw ExitCode(1) }
        }
    }
}

/// `--expect`: what changed, input by input, between a saved JSON Lines run and this one.
enum ExpectedOutput {
    static func compare(actual: [String], expectedFile: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: expectedFile) else {
            printError("\(expectedFile): error: cannot read the expected output")
            throw ExitCode(2)
        }
        let expected = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
            .map(String.init)
        var differences: [String] = []
        for index in 0..<max(expected.count, actual.count) {
            let want = index < expected.count ? expected[index] : nil
            let got = index < actual.count ? actual[index] : nil
            guard want != got else { continue }
            let name = (got ?? want).flatMap(inputName) ?? "line \(index + 1)"
            differences.append("\(name):")
            guard let want, let got, let old = try? JSONParser.parse(Array(want.utf8)),
                let new = try? JSONParser.parse(Array(got.utf8))
            else {
                differences.append("  - \(want ?? "(no line)")")
                differences.append("  + \(got ?? "(no line)")")
                continue
            }
            for (path, before, after) in JSONDifference.between(old, new) {
                differences.append("  \(path)")
                differences.append("    - \(before)")
                differences.append("    + \(after)")
            }
        }
        return differences
    }

    static func inputName(_ line: String) -> String? {
        if case .string(let name)? = (try? JSONParser.parse(Array(line.utf8)))?["input"] { return name }
        return nil
    }
}

/// The paths where two JSON documents differ, with both values.
enum JSONDifference {
    static func between(_ a: JSONValue, _ b: JSONValue, path: String = "") -> [(String, String, String)] {
        switch (a, b) {
        case (.object(let left), .object(let right)):
            var result: [(String, String, String)] = []
            var keys = left.map(\.key)
            for member in right where !keys.contains(member.key) { keys.append(member.key) }
            for key in keys {
                let l = a[key] ?? .null
                let r = b[key] ?? .null
                if l != r { result += between(l, r, path: path.isEmpty ? key : "\(path).\(key)") }
            }
            return result
        case (.array(let left), .array(let right)) where left.count == right.count:
            return zip(left, right).enumerated().flatMap { index, pair in
                pair.0 == pair.1 ? [] : between(pair.0, pair.1, path: "\(path).\(index)")
            }
        default:
            return a == b ? [] : [(path.isEmpty ? "(whole line)" : path, a.serialized(), b.serialized())]
        }
    }
}
