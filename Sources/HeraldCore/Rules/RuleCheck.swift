import Foundation

/// `herald check`: what loading cannot see on its own — rules that name providers, statuses,
/// channels or templates that do not exist, transitions a provider never makes, rules that can
/// never fire, and unset environment variables.
public struct RuleCheck {
    public var ruleSet: RuleSet
    /// The templates folder (`templates/<name>/<locale>.mustache`).
    public var templatesPath: String
    /// Report unset variables as warnings instead of errors (for CI of a rules repository).
    public var allowMissingEnvironment: Bool

    public init(ruleSet: RuleSet, templatesPath: String, allowMissingEnvironment: Bool = false) {
        self.ruleSet = ruleSet
        self.templatesPath = templatesPath
        self.allowMissingEnvironment = allowMissingEnvironment
    }

    /// Every problem, errors and warnings, in file order.
    public func run() -> [ConfigError] {
        var problems = ruleSet.warnings
        func report(_ severity: ConfigError.Severity, _ message: String, at location: SourceLocation) {
            problems.append(
                ConfigError(
                    file: ruleSet.file, line: location.line, column: location.column, severity: severity,
                    message: message))
        }
        let providersByName = Dictionary(ruleSet.providers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let channelNames = Set(ruleSet.channels.map(\.name))
        let channelsByName = Dictionary(ruleSet.channels.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for missing in ruleSet.missingVariables {
            report(
                allowMissingEnvironment ? .warning : .error,
                "environment variable \(missing.name) is not set (\(missing.usedBy))",
                at: SourceLocation(line: missing.line, column: missing.column))
        }
        // A declared provider that maps neither yields events no rule can tell apart (`got ?→?`).
        for provider in ruleSet.providers where provider.preset == nil {
            guard provider.fields[.orderReference] == nil, provider.fields[.orderStatus] == nil else { continue }
            report(
                .error,
                "provider '\(provider.name)' maps neither order.reference nor order.status: add fields: "
                    + "{ order.reference: <path in the body>, order.status: <path in the body> }",
                at: provider.location)
        }
        for (index, rule) in ruleSet.rules.enumerated() {
            var providers = ruleSet.providers
            if let names = rule.when.providers {
                for name in names.sorted() where providersByName[name] == nil {
                    var message = "rule '\(rule.id)': unknown provider '\(name)'"
                    if let suggestion = Suggestion.closest(to: name, in: providersByName.keys) {
                        message += "; did you mean '\(suggestion)'?"
                    }
                    report(.error, message, at: rule.location(of: "when.provider"))
                }
                providers = providers.filter { names.contains($0.name) }
            }
            checkStatuses(rule, providers: providers, report: report)
            for (part, channel) in [("send.channel", rule.send?.channel), ("send.fallback", rule.send?.fallback)] {
                guard let channel, !channelNames.contains(channel) else { continue }
                var message = "rule '\(rule.id)': unknown channel '\(channel)'"
                if let suggestion = Suggestion.closest(to: channel, in: channelNames) {
                    message += "; did you mean '\(suggestion)'?"
                }
                report(.error, message, at: rule.location(of: part))
            }
            checkTemplate(rule, report: report)
            if let send = rule.send, let channel = channelsByName[send.channel], !channel.canSend,
                Planner.fallback(for: send, in: ruleSet) == nil
            {
                let unset = "rule '\(rule.id)': channel '\(channel.name)' has unset credentials "
                    + "(\(channel.missing.joined(separator: ", ")))"
                let held = "its messages will be held"
                let message =
                    send.fallback.map { "\(unset) and its fallback '\($0)' cannot send either: \(held)" }
                    ?? "\(unset) and the rule has no fallback: \(held)"
                report(.warning, message, at: rule.location(of: "send.channel"))
            }
            if let send = rule.send, channelsByName[send.channel]?.type == "whatsapp-cloud",
                !FileManager.default.fileExists(atPath: ((templatesPath as NSString).appendingPathComponent(send.template) as NSString).appendingPathComponent("whatsapp.yaml"))
            {
                report(
                    .warning,
                    "rule '\(rule.id)': template '\(send.template)' has no whatsapp.yaml; WhatsApp only delivers business-initiated messages through an approved template",
                    at: rule.location(of: "send.template"))
            }
            for earlier in ruleSet.rules[..<index] where earlier.stop && Self.covers(earlier.when, rule.when) {
                report(
                    .warning,
                    "rule '\(rule.id)' can never fire: rule '\(earlier.id)' (line \(earlier.location.line)) matches every event it matches and has stop: true",
                    at: rule.location)
                break
            }
        }
        return problems.sorted { ($0.line, $0.column) < ($1.line, $1.column) }
    }

    func checkStatuses(
        _ rule: Rule, providers: [ProviderProfile],
        report: (ConfigError.Severity, String, SourceLocation) -> Void
    ) {
        guard let transition = rule.when.transition, !providers.isEmpty,
            providers.allSatisfy({ !$0.statuses.isEmpty })
        else { return }
        let scope = rule.when.providers == nil ? "any provider" : providers.map(\.name).joined(separator: ", ")
        var unknown = false
        for (part, statuses) in [("from", transition.from), ("to", transition.to)] {
            for status in statuses ?? [] where !providers.contains(where: { $0.statuses.contains(status) }) {
                unknown = true
                var message = "rule '\(rule.id)': status '\(status)' is never sent by \(scope)"
                let all = providers.flatMap(\.statuses)
                if let suggestion = Suggestion.closest(to: status, in: all) { message += "; did you mean '\(suggestion)'?" }
                let place = rule.locations["when.transition.\(part).\(status)"] ?? rule.location(of: "when.transition.\(part)")
                report(.error, message, place)
            }
        }
        guard !unknown, let from = transition.from, let to = transition.to else { return }
        let withTables = providers.filter { !$0.transitions.isEmpty }
        guard withTables.count == providers.count else { return }
        let possible = from.contains { f in
            to.contains { t in withTables.contains { $0.statuses.contains(f) && $0.canReach(from: f, to: t) } }
        }
        if !possible {
            report(
                .error,
                "rule '\(rule.id)' can never fire: \(scope) never goes from \(TransitionMatch.describe(from)) to \(TransitionMatch.describe(to))",
                rule.location(of: "when.transition"))
        }
    }

    func checkTemplate(_ rule: Rule, report: (ConfigError.Severity, String, SourceLocation) -> Void) {
        guard let send = rule.send else { return }
        let folder = (templatesPath as NSString).appendingPathComponent(send.template)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            report(
                .error, "rule '\(rule.id)': template '\(send.template)' does not exist (no folder \(folder))",
                rule.location(of: "send.template"))
            return
        }
        func exists(_ locale: String) -> Bool {
            FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent("\(locale).mustache"))
        }
        // Every language the merchant writes in needs its own file: never a silent switch to French.
        for locale in ruleSet.defaults.locales where !exists(locale) {
            let file = (folder as NSString).appendingPathComponent("\(locale).mustache")
            report(
                .error, "rule '\(rule.id)': template '\(send.template)' has no '\(locale)' version (\(file))",
                rule.location(of: "send.template"))
        }
        // A rule's own locale renders through the same fallback as the renderer: ar-MA → ar → default.
        guard let locale = send.locale, !ruleSet.defaults.locales.contains(locale) else { return }
        let chain = TemplateStore.fallbacks(locale, defaultLocale: ruleSet.defaults.locale)
        guard let used = chain.first(where: exists) else {
            report(
                .error,
                "rule '\(rule.id)': template '\(send.template)' has no '\(locale)' version and nothing to fall back to "
                    + "(\(chain.joined(separator: " → ")))",
                rule.location(of: "send.locale"))
            return
        }
        if used == ruleSet.defaults.locale, PluralRules.language(of: locale) != PluralRules.language(of: used) {
            report(
                .warning,
                "rule '\(rule.id)': template '\(send.template)' has no '\(locale)' version; its messages will be in "
                    + "'\(used)', the default locale",
                rule.location(of: "send.locale"))
        }
    }

    /// Whether every event `later` matches is also matched by `earlier`.
    static func covers(_ earlier: When, _ later: When) -> Bool {
        guard earlier.predicate == nil else { return false }
        func coversSet(_ a: Set<String>?, _ b: Set<String>?) -> Bool {
            guard let a else { return true }
            guard let b else { return false }
            return b.isSubset(of: a)
        }
        if let sandbox = earlier.sandbox, sandbox != later.sandbox { return false }
        guard coversSet(earlier.providers, later.providers), coversSet(earlier.events, later.events) else { return false }
        guard let transition = earlier.transition else { return true }
        guard let other = later.transition else { return false }
        return coversSet(transition.fromSet, other.fromSet) && coversSet(transition.toSet, other.toSet)
    }
}
