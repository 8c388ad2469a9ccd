import ArgumentParser
import Foundation
import HeraldCore
import HeraldStore
import Logging

/// `--rules` and `--templates`, shared by every subcommand that reads the rule set.
struct RulesOptions: ParsableArguments {
    @Option(help: "The rules file.")
    var rules: String = "rules.yaml"

    @Option(help: "The templates folder.")
    var templates: String = "templates"

    /// Loads the rules or prints every problem as file:line:col: error: … and exits `failure`.
    func loadRuleSet(failure: Int32 = 1) throws -> RuleSet {
        do {
            return try RuleSet.load(path: rules)
        } catch let errors as ConfigErrors {
            for error in errors.errors { printError(error.description) }
            throw ExitCode(failure)
        }
    }

    /// Loads the templates or prints every problem and exits `failure`.
    func loadTemplates(failure: Int32 = 1) throws -> TemplateStore {
        do {
            return try TemplateStore.load(path: templates)
        } catch let errors as TemplateErrors {
            for error in errors.errors { printError(error.description) }
            throw ExitCode(failure)
        }
    }
}

/// `--db`: the SQLite file.
struct StoreOptions: ParsableArguments {
    @Option(help: "The SQLite database (default: herald.sqlite next to the rules file).")
    var db: String?

    func path(rules: String) -> String {
        if let db { return db }
        return URL(fileURLWithPath: rules).deletingLastPathComponent().appendingPathComponent("herald.sqlite").path
    }

    /// Opens the existing store for an operator command, or says there is none and exits 1.
    func openExisting(rules: String) throws -> any Store {
        try openExistingSQLite(rules: rules)
    }

    /// The embedded SQLite store, for the commands only it supports so far (`prune`, `forget`).
    func openExistingSQLite(rules: String) throws -> SQLiteStore {
        let path = path(rules: rules)
        guard FileManager.default.fileExists(atPath: path) else {
            printError("\(path): error: no store here (run herald serve first, or pass --db)")
            throw ExitCode(1)
        }
        do {
            return try SQLiteStore(path: path)
        } catch {
            printError("\(path): error: cannot open the store: \(error)")
            throw ExitCode(1)
        }
    }
}

/// `--utc`: the zone `events` and `messages` show times in.
struct DisplayTimeOptions: ParsableArguments {
    @Flag(help: "Show times in UTC (default: the rules' defaults.timezone, with its offset).")
    var utc = false

    /// The rules' `defaults.timezone`; UTC with `--utc`, without a rules file, or when the rules do not load.
    func timeZone(rules: String) -> TimeZone {
        let universal = TimeZone(identifier: "UTC")!
        guard !utc, FileManager.default.fileExists(atPath: rules) else { return universal }
        do {
            return try RuleSet.load(path: rules).defaults.timeZone
        } catch {
            printError("\(rules): note: the rules do not load (herald check says why); times are in UTC")
            return universal
        }
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Log lines go to standard error, at `--log-level` or `LOG_LEVEL` (default info).
func makeLogger(level: String?) -> Logger {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = .info
        return handler
    }
    var logger = Logger(label: "herald")
    let name = level ?? ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "info"
    logger.logLevel = Logger.Level(rawValue: name) ?? .info
    return logger
}
