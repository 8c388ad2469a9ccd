import Foundation
import Yams

/// rules.yaml, loaded and checked: defaults, providers, channels and rules.
public struct RuleSet: Sendable {
    public var file: String
    public var version: Int
    public var defaults: Defaults
    /// Providers in file order.
    public var providers: [ProviderProfile]
    public var channels: [Channel]
    public var rules: [Rule]
    /// `${NAME}` references whose variable is unset, with where they are used.
    public var missingVariables: [MissingVariable]
    public var warnings: [ConfigError]

    public func provider(named name: String) -> ProviderProfile? {
        providers.first(where: { $0.name == name })
    }

    public struct Defaults: Sendable {
        public var locale: String = "en"
        public var locales: [String] = ["ar", "fr", "en"]
        public var timeZone: TimeZone = TimeZone(identifier: "UTC")!
        public var country: String?
        public var localesByCountry: [String: String] = [:]
        public var quietHours: QuietHours?

        public init() {}
    }

    public struct QuietHours: Sendable, Equatable {
        /// Minutes after midnight.
        public var from: Int
        public var to: Int

        public init(from: Int, to: Int) {
            self.from = from
            self.to = to
        }
    }

    public struct Channel: Sendable, Equatable {
        public var name: String
        /// The typed settings, `${NAME}` expanded (an unset variable expands to nothing and is listed in `missing`).
        public var configuration: ChannelConfiguration
        /// Unset variables the settings use: while any is, the channel cannot send and its messages are held.
        public var missing: [String]

        public init(name: String, configuration: ChannelConfiguration, missing: [String] = []) {
            self.name = name
            self.configuration = configuration
            self.missing = missing
        }

        /// The `type:` written in rules.yaml.
        public var type: String { configuration.type }

        /// Whether every variable the channel's settings use is set.
        public var canSend: Bool { missing.isEmpty }
    }

    public func channel(named name: String) -> Channel? {
        channels.first(where: { $0.name == name })
    }

    public struct MissingVariable: Sendable, Equatable, CustomStringConvertible {
        public var name: String
        public var usedBy: String
        public var file: String
        public var line: Int
        public var column: Int

        public var description: String { "\(file):\(line):\(column): environment variable \(name) is not set (\(usedBy))" }
    }

    /// Loads `path`. Throws `ConfigErrors` listing every problem, each with file:line:col.
    public static func load(path: String, environment: Environment = .process) throws -> RuleSet {
        let url = URL(fileURLWithPath: path)
        let display = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            let tried = url.standardizedFileURL.path
            throw ConfigErrors([
                ConfigError(
                    file: display, line: 1, column: 1,
                    message: "the rules file does not exist (tried \(tried); pass --rules FILE)")
            ])
        }
        guard !isDirectory.boolValue else {
            throw ConfigErrors([
                ConfigError(file: display, line: 1, column: 1, message: "the rules file is a directory, not a file")
            ])
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let size = (attributes?[.size] as? NSNumber)?.intValue else {
            throw ConfigErrors([ConfigError(file: display, line: 1, column: 1, message: "cannot read the rules file")])
        }
        guard size <= maxFileSize else {
            throw ConfigErrors([
                ConfigError(
                    file: display, line: 1, column: 1,
                    message: "the rules file is \(size) bytes; the limit is \(maxFileSize) bytes")
            ])
        }
        guard let data = try? Data(contentsOf: url), let text = String(data: data, encoding: .utf8) else {
            throw ConfigErrors([
                ConfigError(file: display, line: 1, column: 1, message: "the rules file is not readable UTF-8 text")
            ])
        }
        return try parse(yaml: text, file: display, environment: environment)
    }

    /// The largest rules file accepted: far above any real rule set, small enough to refuse abuse.
    public static let maxFileSize = 1 << 20

    public static func parse(yaml: String, file: String, environment: Environment = .process) throws -> RuleSet {
        guard yaml.utf8.count <= maxFileSize else {
            throw ConfigErrors([
                ConfigError(file: file, line: 1, column: 1, message: "the rules file is larger than \(maxFileSize) bytes")
            ])
        }
        let root: Node
        do {
            // The parser owns the anchors (nodes hold them weakly): keep it alive for the check.
            let parser = try Yams.Parser(yaml: yaml)
            guard let node = try parser.singleRoot() else {
                throw ConfigErrors([ConfigError(file: file, line: 1, column: 1, message: "the rules file is empty")])
            }
            let anchored = withExtendedLifetime(parser) { YAMLReader.firstAnchored(node) }
            if let anchored {
                let mark = anchored.mark
                throw ConfigErrors([
                    ConfigError(
                        file: file, line: mark?.line ?? 1, column: mark?.column ?? 1,
                        message: "YAML anchors and aliases (&name, *name) are not supported in rules files; write the value out")
                ])
            }
            root = node
        } catch let error as YamlError {
            throw ConfigErrors([ConfigError(yamlError: error, file: file, text: yaml)])
        }
        let loader = RuleSetLoader(reader: YAMLReader(file: file), environment: environment)
        let ruleSet = loader.load(root)
        if !loader.reader.errors.isEmpty { throw ConfigErrors(loader.reader.errors) }
        return ruleSet!
    }
}

extension ConfigError {
    init(yamlError: YamlError, file: String, text: String) {
        switch yamlError {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
            .composer(_, let problem, let mark, _):
            var message = "invalid YAML: \(problem)"
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            if mark.line - 1 < lines.count, lines[mark.line - 1].contains("\t") {
                message = "invalid YAML: a tab character is used for indentation; indent with spaces"
            }
            self.init(file: file, line: mark.line, column: mark.column, message: message)
        case .duplicatedKeysInMapping(let duplicates, let context):
            self.init(
                file: file, line: context.mark.line, column: context.mark.column,
                message: "duplicated key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in a mapping")
        case .reader(let problem, _, _, _):
            self.init(file: file, line: 1, column: 1, message: "invalid YAML: \(problem)")
        default:
            self.init(file: file, line: 1, column: 1, message: "invalid YAML: \(yamlError)")
        }
    }
}

final class RuleSetLoader {
    let reader: YAMLReader
    let environment: Environment
    var missing: [RuleSet.MissingVariable] = []

    init(reader: YAMLReader, environment: Environment) {
        self.reader = reader
        self.environment = environment
    }

    static let topKeys = ["version", "defaults", "providers", "channels", "rules"]

    func load(_ root: Node) -> RuleSet? {
        guard let members = reader.mapping(root, what: "the rules file", allowed: Self.topKeys) else { return nil }
        var version: Int?
        var defaults = RuleSet.Defaults()
        var providers: [ProviderProfile] = []
        var channels: [RuleSet.Channel] = []
        var rules: [Rule] = []
        // Defaults first, wherever they are written: providers inherit their time zone and country.
        for member in members where member.key == "defaults" { defaults = loadDefaults(member.value) }
        for member in members {
            switch member.key {
            case "version":
                if let text = reader.string(member.value, what: "version") {
                    if text == "1" { version = 1 } else { reader.error("unsupported version '\(text)'; this Herald reads version 1", at: member.value) }
                }
            case "defaults": break
            case "providers":
                guard let entries = reader.mapping(member.value, what: "providers") else { continue }
                for entry in entries {
                    let loader = ProviderLoader(loader: self, defaults: defaults)
                    if var profile = loader.load(name: entry.key, node: entry.value) {
                        // The name's place: a block mapping's own mark is its first key, on the next line.
                        profile.location = RuleLoader.location(entry.keyNode)
                        providers.append(profile)
                    }
                }
            case "channels": channels = loadChannels(member.value)
            case "rules": rules = RuleLoader(loader: self).load(member.value)
            default: break
            }
        }
        if version == nil, !members.contains(where: { $0.key == "version" }) {
            reader.error("missing 'version: 1' at the top of the rules file", at: root)
        }
        return RuleSet(
            file: reader.file, version: version ?? 1, defaults: defaults, providers: providers, channels: channels,
            rules: rules, missingVariables: missing, warnings: reader.warnings)
    }

    /// Expands `${NAME}` in a scalar and records unset variables with their location.
    func expand(_ text: String, at node: Node, usedBy: String) -> (value: String, missing: [String]) {
        let result = environment.expand(text)
        for name in result.missing {
            missing.append(
                RuleSet.MissingVariable(
                    name: name, usedBy: usedBy, file: reader.file, line: node.mark?.line ?? 1,
                    column: node.mark?.column ?? 1))
        }
        return result
    }

    func secret(_ node: Node, usedBy: String) -> Secret? {
        guard let text = reader.string(node, what: usedBy) else { return nil }
        _ = expand(text, at: node, usedBy: usedBy)
        return Secret(reference: text, environment: environment)
    }

    func timeZone(_ node: Node, what: String) -> TimeZone? {
        guard let name = reader.string(node, what: what) else { return nil }
        guard let zone = TimeZone(identifier: name) else {
            reader.error("unknown time zone '\(name)' (use an IANA name such as Africa/Casablanca)", at: node)
            return nil
        }
        return zone
    }

    static let defaultsKeys = ["locale", "locales", "timezone", "country", "locales_by_country", "quiet_hours"]

    func loadDefaults(_ node: Node) -> RuleSet.Defaults {
        var defaults = RuleSet.Defaults()
        guard let members = reader.mapping(node, what: "defaults", allowed: Self.defaultsKeys) else { return defaults }
        for member in members {
            switch member.key {
            case "locale": if let v = reader.string(member.value, what: "defaults.locale") { defaults.locale = v }
            case "locales": if let v = reader.strings(member.value, what: "defaults.locales") { defaults.locales = v }
            case "timezone": if let v = timeZone(member.value, what: "defaults.timezone") { defaults.timeZone = v }
            case "country": defaults.country = country(member.value, what: "defaults.country")
            case "locales_by_country":
                guard let entries = reader.mapping(member.value, what: "defaults.locales_by_country") else { continue }
                for entry in entries {
                    if let locale = reader.string(entry.value, what: "locale for \(entry.key)") {
                        defaults.localesByCountry[entry.key.uppercased()] = locale
                    }
                }
            case "quiet_hours":
                guard let entries = reader.mapping(member.value, what: "defaults.quiet_hours", allowed: ["from", "to"])
                else { continue }
                var from: Int?, to: Int?
                for entry in entries {
                    guard let text = reader.string(entry.value, what: "quiet_hours.\(entry.key)") else { continue }
                    guard let minutes = Self.minutes(text) else {
                        reader.error("quiet_hours.\(entry.key) must be a time like \"21:30\"", at: entry.value)
                        continue
                    }
                    if entry.key == "from" { from = minutes } else { to = minutes }
                }
                if let from, let to {
                    defaults.quietHours = RuleSet.QuietHours(from: from, to: to)
                } else {
                    reader.error("quiet_hours needs both 'from' and 'to'", at: member.value)
                }
            default: break
            }
        }
        return defaults
    }

    static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0...23).contains(h), (0...59).contains(m)
        else { return nil }
        return h * 60 + m
    }

    func country(_ node: Node, what: String) -> String? {
        guard let code = reader.string(node, what: what) else { return nil }
        guard code.count == 2, code.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            reader.error("\(what) must be a two-letter ISO country code such as MA", at: node)
            return nil
        }
        return code.uppercased()
    }
}
