import Foundation
import Yams

/// Reads one entry of `providers:`, on top of its preset when it names one.
///
/// A preset is parsed from the same keys, then every key the entry sets replaces the preset's
/// (`verify` and `fields` key by key), so a provider declared from scratch and a tweaked preset
/// go through the same code.
struct ProviderLoader {
    let loader: RuleSetLoader
    let defaults: RuleSet.Defaults
    var reader: YAMLReader { loader.reader }

    static let keys = [
        "preset", "secret", "secrets", "app_id", "path_token", "allow_ips", "verify", "fields", "items", "dedupe",
        "delivery_id", "required", "timezone", "country", "locale", "currency", "amount_unit", "amount_decimal",
        "statuses", "transitions", "status_groups", "enrich",
    ]
    static let verifyKeys = ["scheme", "header", "encoding", "prefix", "secret", "secrets", "tolerance"]
    static let schemes = ["hmac-sha256", "standard-webhooks", "header-token", "none"]

    /// The raw settings of one provider, every one optional so that an entry can overlay a preset.
    struct Spec {
        var preset: String?
        var secrets: [(text: String, node: Node)]?
        var appID: (text: String, node: Node)?
        var pathToken: (text: String, node: Node)?
        var allowIPs: [CIDR]?
        var scheme: String?
        var header: String?
        var encoding: SignatureEncoding?
        var prefix: String?
        var verifySecrets: [(text: String, node: Node)]?
        var tolerance: TimeInterval?
        var fields: [CanonicalField: FieldSource] = [:]
        var items: ItemsMapping?
        var dedupe: [FieldSource]?
        var deliveryID: FieldSource?
        var required: [CanonicalField]?
        var timeZone: TimeZone?
        var country: String?
        var locale: String?
        var currency: String?
        var amountUnit: Amount.Unit?
        var amountDecimal: Amount.DecimalMark?
        var statuses: [String]?
        var transitions: [String: [String]]?
        var statusGroups: [String: String]?
        var enrichment: Enrichment?
        /// Where the entry's own keys are written; a preset's keys have no place in the user's file.
        var locations: [String: SourceLocation] = [:]

        func overlaid(by top: Spec) -> Spec {
            var merged = self
            merged.preset = top.preset ?? preset
            merged.secrets = top.secrets ?? secrets
            merged.appID = top.appID ?? appID
            merged.pathToken = top.pathToken ?? pathToken
            merged.allowIPs = top.allowIPs ?? allowIPs
            merged.scheme = top.scheme ?? scheme
            merged.header = top.header ?? header
            merged.encoding = top.encoding ?? encoding
            merged.prefix = top.prefix ?? prefix
            merged.verifySecrets = top.verifySecrets ?? verifySecrets
            merged.tolerance = top.tolerance ?? tolerance
            merged.fields.merge(top.fields) { _, new in new }
            merged.items = top.items ?? items
            merged.dedupe = top.dedupe ?? dedupe
            merged.deliveryID = top.deliveryID ?? deliveryID
            merged.required = top.required ?? required
            merged.timeZone = top.timeZone ?? timeZone
            merged.country = top.country ?? country
            merged.locale = top.locale ?? locale
            merged.currency = top.currency ?? currency
            merged.amountUnit = top.amountUnit ?? amountUnit
            merged.amountDecimal = top.amountDecimal ?? amountDecimal
            merged.statuses = top.statuses ?? statuses
            merged.transitions = top.transitions ?? transitions
            merged.statusGroups = top.statusGroups ?? statusGroups
            merged.enrichment = top.enrichment ?? enrichment
            merged.locations = top.locations
            return merged
        }
    }

    func load(name: String, node: Node) -> ProviderProfile? {
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }), !name.isEmpty
        else {
            reader.error("provider name '\(name)' may only use letters, digits, '-' and '_' (it is a URL path segment)", at: node)
            return nil
        }
        guard var spec = parse(node, provider: name) else { return nil }
        if let preset = spec.preset {
            guard let text = Presets.yaml[preset] else {
                var message = "unknown preset '\(preset)'"
                if let suggestion = Suggestion.closest(to: preset, in: Presets.names) {
                    message += "; did you mean '\(suggestion)'?"
                }
                reader.error(message + " (presets: \(Presets.names.joined(separator: ", ")))", at: node)
                return nil
            }
            // Presets are part of Herald and covered by tests; a failure here is a bug, reported as such.
            guard let presetNode = try? Yams.compose(yaml: text), let base = parse(presetNode, provider: name) else {
                reader.error("internal error: preset '\(preset)' does not load", at: node)
                return nil
            }
            spec = base.overlaid(by: spec)
        }
        return build(spec, name: name, node: node)
    }

    func build(_ spec: Spec, name: String, node: Node) -> ProviderProfile? {
        guard let schemeName = spec.scheme else {
            reader.error("provider '\(name)' needs a preset or verify.scheme (\(Self.schemes.joined(separator: ", ")))", at: node)
            return nil
        }
        let secretSources = spec.verifySecrets ?? spec.secrets ?? spec.appID.map { [$0] } ?? []
        let secrets = secretSources.compactMap { loader.secret($0.node, usedBy: "provider '\(name)' secret") }
        let scheme: SignatureScheme
        switch schemeName {
        case "hmac-sha256":
            guard let header = spec.header else {
                reader.error("provider '\(name)': hmac-sha256 needs verify.header", at: node)
                return nil
            }
            scheme = .hmacSHA256(header: header, encoding: spec.encoding ?? .hex, prefix: spec.prefix, secrets: secrets)
        case "standard-webhooks":
            // A set secret that is not base64 would refuse every webhook with 401: say so where it is written.
            for source in secretSources {
                let secret = Secret(reference: source.text, environment: loader.environment)
                guard let value = secret.value, StandardWebhooks.key(for: value) == nil else { continue }
                let shown = source.text.contains("${") ? "the secret in \(source.text)" : "the secret"
                let example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
                reader.checkError(
                    "provider '\(name)': \(shown) is not a base64 whsec_ key (they look like \(example))",
                    at: source.node)
            }
            scheme = .standardWebhooks(secrets: secrets, tolerance: spec.tolerance ?? 300)
        case "header-token":
            guard let header = spec.header else {
                reader.error("provider '\(name)': header-token needs verify.header", at: node)
                return nil
            }
            guard let token = secrets.first else {
                reader.error("provider '\(name)' needs a secret (or app_id) for its \(header) header", at: node)
                return nil
            }
            scheme = .headerToken(header: header, token: token)
        default:
            scheme = .none
        }
        if schemeName != "none", schemeName != "header-token", secrets.isEmpty {
            reader.error("provider '\(name)' needs a secret: add secret: \"${SOME_VARIABLE}\"", at: node)
            return nil
        }
        let pathToken = spec.pathToken.flatMap { loader.secret($0.node, usedBy: "provider '\(name)' path_token") }
        var profile = ProviderProfile(
            name: name, preset: spec.preset,
            verification: Verification(scheme: scheme, allowIPs: spec.allowIPs ?? [], pathToken: pathToken),
            fields: spec.fields, items: spec.items, dedupe: spec.dedupe ?? [], deliveryID: spec.deliveryID,
            required: spec.required ?? [], timeZone: spec.timeZone ?? defaults.timeZone,
            country: spec.country ?? defaults.country, locale: spec.locale, currency: spec.currency,
            amountUnit: spec.amountUnit ?? .major, amountDecimal: spec.amountDecimal ?? .auto,
            statuses: spec.statuses ?? [], transitions: spec.transitions ?? [:],
            statusGroups: spec.statusGroups ?? [:], enrichment: spec.enrichment)
        profile.location = RuleLoader.location(node)
        profile.locations = spec.locations
        return profile
    }

    func parse(_ node: Node, provider: String) -> Spec? {
        guard let members = reader.mapping(node, what: "provider '\(provider)'", allowed: Self.keys) else { return nil }
        var spec = Spec()
        func scalarWithNode(_ value: Node, _ what: String) -> (text: String, node: Node)? {
            reader.string(value, what: what).map { ($0, value) }
        }
        func secretList(_ value: Node, _ what: String) -> [(text: String, node: Node)]? {
            if case .sequence(let sequence) = value {
                return sequence.compactMap { scalarWithNode($0, what) }
            }
            return scalarWithNode(value, what).map { [$0] }
        }
        for member in members {
            let value = member.value
            switch member.key {
            case "preset": spec.preset = reader.string(value, what: "preset")
            case "secret", "secrets": spec.secrets = secretList(value, member.key)
            case "app_id": spec.appID = scalarWithNode(value, "app_id")
            case "path_token": spec.pathToken = scalarWithNode(value, "path_token")
            case "allow_ips":
                let entries: [Node]
                if case .sequence(let sequence) = value { entries = Array(sequence) } else { entries = [value] }
                var cidrs: [CIDR] = []
                for entry in entries {
                    guard let text = reader.string(entry, what: "each entry of allow_ips") else { continue }
                    guard let cidr = CIDR(text) else {
                        reader.error("allow_ips: '\(text)' is not an IP address or CIDR range", at: entry)
                        continue
                    }
                    cidrs.append(cidr)
                }
                spec.allowIPs = cidrs
            case "verify": parseVerify(value, into: &spec, provider: provider)
            case "fields":
                guard let entries = reader.mapping(value, what: "fields", allowed: CanonicalField.allCases.map(\.rawValue))
                else { continue }
                for entry in entries {
                    guard let field = CanonicalField(rawValue: entry.key),
                        let source = reader.string(entry.value, what: "fields.\(entry.key)")
                    else { continue }
                    spec.fields[field] = FieldSource(parsing: source)
                    spec.locations["fields.\(entry.key)"] = RuleLoader.location(entry.value)
                }
            case "items":
                guard let entries = reader.mapping(value, what: "items", allowed: ["path", "name", "sku", "quantity", "price"])
                else { continue }
                var paths: [String: FieldPath] = [:]
                for entry in entries {
                    if let text = reader.string(entry.value, what: "items.\(entry.key)") { paths[entry.key] = FieldPath(text) }
                    spec.locations["items.\(entry.key)"] = RuleLoader.location(entry.value)
                }
                guard let path = paths["path"] else {
                    reader.error("items needs a 'path' to the list of items", at: value)
                    continue
                }
                spec.items = ItemsMapping(
                    path: path, name: paths["name"], sku: paths["sku"], quantity: paths["quantity"], price: paths["price"])
            case "dedupe":
                spec.locations["dedupe"] = RuleLoader.location(value)
                spec.dedupe = reader.strings(value, what: "dedupe")?.map(FieldSource.init(parsing:))
            case "delivery_id":
                spec.locations["delivery_id"] = RuleLoader.location(value)
                spec.deliveryID = reader.string(value, what: "delivery_id").map(FieldSource.init(parsing:))
            case "required":
                guard let list = reader.strings(value, what: "required") else { continue }
                spec.required = list.compactMap { text in
                    guard let field = CanonicalField(rawValue: text) else {
                        reader.error("required: '\(text)' is not a canonical field", at: value)
                        return nil
                    }
                    return field
                }
            case "timezone": spec.timeZone = loader.timeZone(value, what: "timezone")
            case "country": spec.country = loader.country(value, what: "country")
            case "locale": spec.locale = reader.string(value, what: "locale")
            case "currency": spec.currency = reader.string(value, what: "currency")?.uppercased()
            case "amount_unit":
                guard let text = reader.string(value, what: "amount_unit") else { continue }
                guard let unit = Amount.Unit(rawValue: text) else {
                    reader.error("amount_unit must be 'major' or 'minor'", at: value)
                    continue
                }
                spec.amountUnit = unit
            case "amount_decimal":
                guard let text = reader.string(value, what: "amount_decimal") else { continue }
                guard let mark = Amount.DecimalMark(rawValue: text) else {
                    reader.error(#"amount_decimal must be ".", "," or auto"#, at: value)
                    continue
                }
                spec.amountDecimal = mark
            case "statuses": spec.statuses = reader.strings(value, what: "statuses")
            case "transitions":
                guard let entries = reader.mapping(value, what: "transitions") else { continue }
                var table: [String: [String]] = [:]
                for entry in entries {
                    table[entry.key] = reader.strings(entry.value, what: "transitions.\(entry.key)") ?? []
                }
                spec.transitions = table
            case "status_groups":
                guard let entries = reader.mapping(value, what: "status_groups") else { continue }
                var groups: [String: String] = [:]
                for entry in entries {
                    groups[entry.key] = reader.string(entry.value, what: "status_groups.\(entry.key)")
                }
                spec.statusGroups = groups
            case "enrich": spec.enrichment = parseEnrichment(value, provider: provider)
            default: break
            }
        }
        if let statuses = spec.statuses, let transitions = spec.transitions {
            let known = Set(statuses)
            for (from, tos) in transitions {
                for status in [from] + tos where !known.contains(status) {
                    reader.error("transitions: '\(status)' is not one of the provider's statuses", at: node)
                }
            }
        }
        return spec
    }

    func parseEnrichment(_ node: Node, provider: String) -> Enrichment? {
        guard let members = reader.mapping(node, what: "enrich", allowed: ["url", "fields", "headers", "timeout"]) else { return nil }
        var url: String?
        var fields: [CanonicalField: FieldPath] = [:]
        var headers: [String: String] = [:]
        var timeout: TimeInterval = 5
        for member in members {
            switch member.key {
            case "url": url = reader.string(member.value, what: "enrich.url")
            case "timeout": timeout = reader.number(member.value, what: "enrich.timeout") ?? timeout
            case "fields":
                for entry in reader.mapping(member.value, what: "enrich.fields", allowed: CanonicalField.allCases.map(\.rawValue)) ?? [] {
                    if let field = CanonicalField(rawValue: entry.key), let path = reader.string(entry.value, what: "enrich.fields.\(entry.key)") {
                        fields[field] = FieldPath(path)
                    }
                }
            case "headers":
                for entry in reader.mapping(member.value, what: "enrich.headers") ?? [] {
                    if let text = reader.string(entry.value, what: "enrich.headers.\(entry.key)") {
                        headers[entry.key] = loader.expand(text, at: entry.value, usedBy: "provider '\(provider)' enrich").value
                    }
                }
            default: break
            }
        }
        guard let url else {
            reader.error("enrich needs a url, such as https://shop.example/api/orders/{{order.reference}}", at: node)
            return nil
        }
        return Enrichment(url: loader.expand(url, at: node, usedBy: "provider '\(provider)' enrich").value, fields: fields, headers: headers, timeout: timeout)
    }

    func parseVerify(_ node: Node, into spec: inout Spec, provider: String) {
        guard let members = reader.mapping(node, what: "verify", allowed: Self.verifyKeys) else { return }
        for member in members {
            let value = member.value
            switch member.key {
            case "scheme":
                guard let text = reader.string(value, what: "verify.scheme") else { continue }
                guard Self.schemes.contains(text) else {
                    var message = "unknown verify.scheme '\(text)'"
                    if let suggestion = Suggestion.closest(to: text, in: Self.schemes) { message += "; did you mean '\(suggestion)'?" }
                    reader.error(message, at: value)
                    continue
                }
                spec.scheme = text
            case "header": spec.header = reader.string(value, what: "verify.header")
            case "encoding":
                guard let text = reader.string(value, what: "verify.encoding") else { continue }
                guard let encoding = SignatureEncoding(rawValue: text) else {
                    reader.error("verify.encoding must be 'hex' or 'base64'", at: value)
                    continue
                }
                spec.encoding = encoding
            case "prefix": spec.prefix = reader.string(value, what: "verify.prefix")
            case "secret", "secrets":
                if case .sequence(let sequence) = value {
                    spec.verifySecrets = sequence.compactMap { n in reader.string(n, what: "verify.secrets").map { ($0, n) } }
                } else if let text = reader.string(value, what: "verify.secret") {
                    spec.verifySecrets = [(text, value)]
                }
            case "tolerance":
                guard let seconds = reader.number(value, what: "verify.tolerance"), seconds > 0 else { continue }
                spec.tolerance = seconds
            default: break
            }
        }
    }
}
