import ArgumentParser
import Foundation
import HeraldCore
import HeraldDispatch
import HeraldServer
import HeraldStore
import Logging

extension Herald {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Receive webhooks: verify, store and acknowledge them.")

        @OptionGroup var rulesOptions: RulesOptions
        @OptionGroup var storeOptions: StoreOptions

        @Option(help: "Address to listen on.")
        var host: String = "127.0.0.1"

        @Option(help: "Port to listen on (0 picks a free one).")
        var port: Int = 8080

        @Option(help: "Largest webhook body accepted, in bytes; larger ones are answered 413.")
        var maxBodySize: Int = 1 << 20

        @Option(help: "Seconds a connection may send nothing before it is closed (slow or idle clients).")
        var idleTimeout: Double = 30

        @Option(help: "Seconds in-flight work may take to finish after SIGTERM or SIGINT.")
        var drainTime: Double = 10

        @Option(
            name: .customLong("trusted-proxy"),
            help: ArgumentHelp(
                "A reverse proxy (CIDR or address) whose X-Forwarded-For names the client; repeatable.",
                discussion: "Without the flag: HERALD_TRUSTED_PROXIES (comma or space separated). None by default."))
        var trustedProxies: [String] = []

        @Option(
            name: .customLong("public-url"),
            help: ArgumentHelp(
                "The address providers reach this server at, such as https://herald.example.com.",
                discussion: """
                    Without the flag: HERALD_PUBLIC_URL. Twilio signs receipts (/receipts/{channel}) over it, so \
                    without it Twilio receipts are answered 503.
                    """))
        var publicURL: String?

        @Option(help: "trace, debug, info, notice, warning, error or critical (default: LOG_LEVEL or info).")
        var logLevel: String?

        @Option(
            name: .customLong("db-timeout"),
            help: ArgumentHelp(
                "Seconds any PostgreSQL call waits for a connection, then for each statement's answer.",
                discussion: """
                    Past it a webhook is answered 503 (the sender retries; nothing unstored is acknowledged), \
                    /healthz answers 503, and the processor and dispatcher try again, waiting up to 5 s between \
                    failures. The connection that did not answer is closed, so a network cut ends within it too.
                    """
            ))
        var dbTimeout: Double = 5

        @Option(help: "Prune events and messages older than this many days, at start and every hour (default: never).")
        var retentionDays: Int?

        /// One warning for all unset variables: "2 environment variables are not set: A (what uses it), B (…)";
        /// a variable used in several places is listed once, with each use.
        static func warnAboutUnsetVariables(_ missing: [RuleSet.MissingVariable], logger: Logger) {
            guard !missing.isEmpty else { return }
            var names: [String] = []
            var uses: [String: [String]] = [:]
            for variable in missing {
                if uses[variable.name] == nil { names.append(variable.name) }
                if uses[variable.name, default: []].contains(variable.usedBy) { continue }
                uses[variable.name, default: []].append(variable.usedBy)
            }
            let listing = names.map { "\($0) (\(uses[$0, default: []].joined(separator: "; ")))" }
            let count = names.count == 1 ? "1 environment variable is" : "\(names.count) environment variables are"
            logger.warning(
                "\(count) not set: \(listing.joined(separator: ", "))",
                metadata: [
                    "herald.count": "\(names.count)",
                    "herald.variables": "\(names.joined(separator: ","))",
                ])
        }

        /// `--trusted-proxy`, or else `HERALD_TRUSTED_PROXIES`; an entry that is not a CIDR exits 2.
        func parsedTrustedProxies(environment: [String: String] = ProcessInfo.processInfo.environment) throws
            -> TrustedProxies
        {
            let source = trustedProxies.isEmpty ? "HERALD_TRUSTED_PROXIES" : "--trusted-proxy"
            let entries =
                trustedProxies.isEmpty
                ? TrustedProxies.entries(inEnvironmentValue: environment["HERALD_TRUSTED_PROXIES"] ?? "")
                : trustedProxies
            do {
                return try TrustedProxies(parsing: entries)
            } catch {
                printError("error: \(source) '\(error.text)': not an IPv4 or IPv6 CIDR")
                throw ExitCode(2)
            }
        }

        static func logHeldMessages(in store: any Store, logger: Logger) async {
            do {
                try await HeldMessages.count(in: store).log(to: logger)
            } catch {
                logger.error("could not count held messages", metadata: ["error": "\(error)"])
            }
        }

        /// `--public-url`, or else `HERALD_PUBLIC_URL`; one that is not an http(s) address exits 2. Without
        /// one, Twilio channels cannot check receipts: said once at start-up.
        func resolvedPublicURL(
            ruleSet: RuleSet, logger: Logger, environment: [String: String] = ProcessInfo.processInfo.environment
        ) throws -> String? {
            let given = publicURL ?? environment["HERALD_PUBLIC_URL"].flatMap { $0.isEmpty ? nil : $0 }
            guard let given else {
                let twilio = ruleSet.channels.filter { $0.type == "twilio" }.map(\.name)
                if !twilio.isEmpty {
                    logger.warning(
                        "no --public-url (HERALD_PUBLIC_URL): Twilio receipts are answered 503",
                        metadata: ["herald.channels": "\(twilio.joined(separator: ","))"])
                }
                return nil
            }
            guard let url = URL(string: given), ["http", "https"].contains(url.scheme ?? ""), url.host != nil,
                url.query == nil
            else {
                printError("error: the public URL must be an http or https address without a query, found '\(given)'")
                throw ExitCode(2)
            }
            return given
        }

        func run() async throws {
            if let retentionDays, retentionDays <= 0 {
                printError("error: --retention-days must be a whole number of days, 1 or more")
                throw ExitCode(2)
            }
            let postgres = try storeOptions.postgresURL()
            if retentionDays != nil, postgres != nil {
                printError("error: --retention-days works on the SQLite store only (not supported on PostgreSQL yet)")
                throw ExitCode(2)
            }
            guard dbTimeout > 0 else {
                printError("error: --db-timeout must be more than 0 seconds")
                throw ExitCode(2)
            }
            let proxies = try parsedTrustedProxies()
            let logger = makeLogger(level: logLevel)
            HeraldMetrics.bootstrap()
            let ruleSet = try rulesOptions.loadRuleSet()
            let templates = try rulesOptions.loadTemplates()
            Self.warnAboutUnsetVariables(ruleSet.missingVariables, logger: logger)
            // What `herald check` reports as errors without stopping the load (a secret that is not
            // base64: that provider's webhooks are refused with 401 until it is fixed).
            for problem in ruleSet.warnings where problem.severity == .error {
                logger.error(
                    "configuration problem",
                    metadata: [
                        "herald.at": "\(problem.file):\(problem.line):\(problem.column)",
                        "herald.problem": "\(problem.message)",
                    ])
            }
            for provider in ruleSet.providers where !provider.verification.missingVariables.isEmpty {
                logger.warning(
                    "provider answers 503 until its secret is set",
                    metadata: ["herald.provider": "\(provider.name)"])
            }
            let store: any Store
            let sqlite: SQLiteStore?
            // What the logs name: the file, or the URL with its password masked.
            let dbName: String
            if let url = postgres {
                var storeLogger = logger
                storeLogger[metadataKey: "herald.db"] = "\(url)"
                logger.info("connecting to PostgreSQL", metadata: ["herald.db": "\(url)"])
                var settings = PostgresStore.Options()
                settings.operationTimeout = .milliseconds(Int64(dbTimeout * 1000))
                let (options, connectLogger) = (settings, storeLogger)
                // Serves at once: until the database answers, webhooks and /healthz get 503.
                store = StoreConnection(
                    name: url.description, logger: logger,
                    onConnected: { store in await Self.logHeldMessages(in: store, logger: logger) },
                    connect: { try await PostgresStore.connect(url, logger: connectLogger, options: options) })
                sqlite = nil
                dbName = url.description
            } else {
                let dbPath = storeOptions.path(rules: rulesOptions.rules)
                do {
                    let file = try SQLiteStore(path: dbPath)
                    (store, sqlite, dbName) = (file, file, dbPath)
                } catch {
                    printError("\(dbPath): error: cannot open the store: \(error)")
                    throw ExitCode(1)
                }
            }
            var configuration = ServerConfiguration(host: host, port: port, maxBodySize: maxBodySize)
            configuration.maxBodySize = maxBodySize
            guard idleTimeout > 0 else {
                printError("error: --idle-timeout must be more than 0 seconds")
                throw ExitCode(2)
            }
            configuration.idleTimeout = .milliseconds(Int64(idleTimeout * 1000))
            guard drainTime >= 0 else {
                printError("error: --drain-time must be 0 seconds or more")
                throw ExitCode(2)
            }
            configuration.drainTime = .milliseconds(Int64(drainTime * 1000))
            configuration.trustedProxies = proxies
            configuration.publicURL = try resolvedPublicURL(ruleSet: ruleSet, logger: logger)
            for channel in ruleSet.channels where !channel.missing.isEmpty {
                logger.warning(
                    "channel credentials not set: its messages are held until they are",
                    metadata: [
                        "herald.channel": "\(channel.name)",
                        "herald.missing_env": "\(channel.missing.joined(separator: ","))",
                    ])
            }
            if sqlite != nil { await Self.logHeldMessages(in: store, logger: logger) }
            let transport = HTTPClientTransport()
            let processor = EventProcessor(
                ruleSet: ruleSet, templates: templates, store: store, logger: logger,
                enricher: Enricher(transport: transport))
            let dispatcher = Dispatcher(
                store: store, ruleSet: ruleSet,
                channels: Dispatcher.channels(for: ruleSet, publicURL: configuration.publicURL, logger: logger),
                transport: transport, logger: logger)
            let app = buildApplication(
                configuration: configuration, ruleSet: ruleSet, store: store, logger: logger, processor: processor,
                dispatcher: dispatcher, transport: transport,
                onServerRunning: { port in
                    logger.notice(
                        "herald is listening",
                        metadata: [
                            "herald.address": "\(host):\(port)", "herald.db": "\(dbName)",
                            "herald.trusted_proxies": "\(proxies.isEmpty ? "none" : proxies.description)",
                            "herald.providers": "\(ruleSet.providers.map(\.name).joined(separator: ","))",
                        ])
                })
            do {
                let retention = retentionDays.flatMap { days in
                    sqlite.map { RetentionService(store: $0, days: days, logger: logger) }
                }
                try await runUntilStopped(
                    app, configuration: configuration, logger: logger, services: retention.map { [$0] } ?? [])
            } catch let error as ServeError {
                printError("error: \(error)")
                throw ExitCode(1)
            }
        }
    }
}
