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

/// `--db` (or `HERALD_DB`): the SQLite file, or a `postgres://` URL.
struct StoreOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The SQLite database, or postgres://USER:PASSWORD@HOST:PORT/DB[?sslmode=…].",
            discussion: """
                Without the flag: HERALD_DB; else herald.sqlite next to the rules file. sslmode: disable, \
                prefer (the default), require or verify-full.
                """))
    var db: String?

    /// `--db`, else `HERALD_DB`, else nil.
    func location(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let db { return db }
        return environment["HERALD_DB"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The SQLite file's path (the default store).
    func path(rules: String) -> String {
        if let location = location() { return location }
        return URL(fileURLWithPath: rules).deletingLastPathComponent().appendingPathComponent("herald.sqlite").path
    }

    /// The PostgreSQL database when `--db`/`HERALD_DB` names one; nil for SQLite. A URL that does
    /// not parse exits 2, saying why with its password masked.
    func postgresURL() throws -> PostgresURL? {
        guard let location = location(), PostgresURL.isPostgres(location) else { return nil }
        do {
            return try PostgresURL(parsing: location)
        } catch {
            printError("error: --db: \(error)")
            throw ExitCode(2)
        }
    }

    /// Connects to the PostgreSQL store (migrating it), or says why it cannot and exits 1.
    func connect(_ url: PostgresURL, logger: Logger) async throws -> PostgresStore {
        do {
            return try await PostgresStore.connect(url, logger: logger)
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }

    /// Opens the existing store for an operator command, or says there is none and exits 1.
    func openExisting(rules: String) async throws -> any Store {
        if let url = try postgresURL() {
            var logger = Logger(label: "herald")
            logger.logLevel = .error
            return try await connect(url, logger: logger)
        }
        return try openExistingSQLite(rules: rules)
    }

    /// Exits 2 when the store is PostgreSQL, for the commands only SQLite supports so far.
    func requireSQLite(command: String, instead: String) throws {
        guard try postgresURL() != nil else { return }
        printError("error: herald \(command) works on the SQLite store only; \(instead)")
        throw ExitCode(2)
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
