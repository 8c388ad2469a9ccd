import Foundation
import Yams

/// Reads `rules:` entries into compiled `Rule`s, reporting every problem at its line and column.
struct RuleLoader {
    let loader: RuleSetLoader
    var reader: YAMLReader { loader.reader }

    static let ruleKeys = ["id", "description", "when", "send", "stop"]
    static let whenKeys = ["provider", "event", "transition", "sandbox", "where"]
    static let sendKeys = ["channel", "template", "to", "locale", "fallback", "at_least_once"]
    static let testKeys = ["equals", "in", "contains", "matches", "exists", "gt", "gte", "lt", "lte"]

    func load(_ node: Node) -> [Rule] {
        guard let entries = reader.sequence(node, what: "rules") else { return [] }
        var rules: [Rule] = []
        var seen: [String: Int] = [:]
        for entry in entries {
            guard let members = reader.mapping(entry, what: "a rule", allowed: Self.ruleKeys) else { continue }
            guard let idMember = members.first(where: { $0.key == "id" }) else {
                reader.error("every rule needs an 'id'", at: entry)
                continue
            }
            guard let id = reader.string(idMember.value, what: "rule id") else { continue }
            if let line = seen[id] {
                reader.error("duplicated rule id '\(id)' (first used on line \(line))", at: idMember.value)
                continue
            }
            let location = Self.location(idMember.value)
            seen[id] = location.line
            var locations: [String: SourceLocation] = ["id": location]
            var when = When()
            var send: Send?
            var stop = false
            for member in members {
                switch member.key {
                case "when": when = loadWhen(member.value, rule: id, locations: &locations)
                case "send": send = loadSend(member.value, rule: id, locations: &locations)
                case "stop": stop = reader.bool(member.value, what: "stop") ?? false
                default: break
                }
            }
            if !members.contains(where: { $0.key == "when" }) {
                reader.error("rule '\(id)' needs 'when:' (use 'when: {}' to match every event)", at: entry)
            }
            let hasSend = members.contains(where: { $0.key == "send" })
            guard hasSend || stop else {
                reader.error("rule '\(id)' needs 'send: { channel: …, template: … }' (or 'stop: true' to silence what it matches)", at: entry)
                continue
            }
            if hasSend, send == nil { continue }
            rules.append(Rule(id: id, when: when, send: send, stop: stop, location: location, locations: locations))
        }
        return rules
    }

    static func location(_ node: Node) -> SourceLocation {
        SourceLocation(line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    func loadWhen(_ node: Node, rule: String, locations: inout [String: SourceLocation]) -> When {
        var when = When()
        guard let members = reader.mapping(node, what: "when", allowed: Self.whenKeys) else { return when }
        for member in members {
            locations["when.\(member.key)"] = Self.location(member.value)
            switch member.key {
            case "provider": when.providers = reader.strings(member.value, what: "when.provider").map(Set.init)
            case "event": when.events = reader.strings(member.value, what: "when.event").map(Set.init)
            case "sandbox": when.sandbox = reader.bool(member.value, what: "when.sandbox")
            case "transition":
                guard let parts = reader.mapping(member.value, what: "when.transition", allowed: ["from", "to"]) else {
                    continue
                }
                var from: [String]?, to: [String]?
                for part in parts {
                    locations["when.transition.\(part.key)"] = Self.location(part.value)
                    if case .sequence(let elements) = part.value {
                        for element in elements {
                            if case .scalar(let scalar) = element {
                                locations["when.transition.\(part.key).\(scalar.string)"] = Self.location(element)
                            }
                        }
                    }
                    let statuses = reader.strings(part.value, what: "transition.\(part.key)")
                    if part.key == "from" { from = statuses } else { to = statuses }
                }
                when.transition = TransitionMatch(from: from, to: to)
            case "where": when.predicate = loadPredicate(member.value, what: "where")
            default: break
            }
        }
        return when
    }

    /// A mapping of `field: test` pairs (all must hold), plus `all:`/`any:`/`not:`.
    func loadPredicate(_ node: Node, what: String) -> Predicate? {
        guard let members = reader.mapping(node, what: what) else { return nil }
        var parts: [Predicate] = []
        for member in members {
            switch member.key {
            case "all", "any":
                guard let list = reader.sequence(member.value, what: member.key) else { continue }
                let inner = list.compactMap { loadPredicate($0, what: "each entry of \(member.key)") }
                parts.append(member.key == "all" ? .all(inner) : .any(inner))
            case "not":
                if let inner = loadPredicate(member.value, what: "not") { parts.append(.not(inner)) }
            default:
                guard let reference = FieldReference(member.key) else {
                    var message = "unknown field '\(member.key)' in \(what) (canonical fields, or payload.<path>)"
                    if let suggestion = Suggestion.closest(to: member.key, in: FieldReference.names) {
                        message += "; did you mean '\(suggestion)'?"
                    }
                    reader.error(message, at: member.keyNode)
                    continue
                }
                if case .scalar(let scalar) = member.value {
                    parts.append(.field(reference, .equals(scalar.string)))  // `field: value` is `equals`
                    continue
                }
                guard let tests = reader.mapping(member.value, what: "the test of \(member.key)", allowed: Self.testKeys)
                else { continue }
                for test in tests {
                    if let compiled = loadTest(test.key, test.value, field: member.key) {
                        parts.append(.field(reference, compiled))
                    }
                }
            }
        }
        return parts.count == 1 ? parts[0] : .all(parts)
    }

    func loadTest(_ name: String, _ node: Node, field: String) -> FieldTest? {
        switch name {
        case "equals":
            return reader.string(node, what: "\(field).equals").map(FieldTest.equals)
        case "in":
            guard let list = reader.strings(node, what: "\(field).in") else { return nil }
            return .oneOf(Set(list), list)
        case "contains":
            guard let text = reader.string(node, what: "\(field).contains") else { return nil }
            return .contains(text, folded: TextFolding.fold(text))
        case "matches":
            guard let pattern = reader.string(node, what: "\(field).matches") else { return nil }
            do {
                return .matches(pattern, try RegexBox(pattern))
            } catch {
                let reason = (error as? RegexBox.InvalidPattern)?.reason ?? "\(error)"
                reader.error("invalid regular expression /\(pattern)/: \(reason)", at: node)
                return nil
            }
        case "exists":
            return reader.bool(node, what: "\(field).exists").map(FieldTest.exists)
        default:
            guard let text = reader.string(node, what: "\(field).\(name)") else { return nil }
            let threshold: Threshold
            if Self.isNumber(text), let number = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) {
                threshold = .number(number)
            } else if let date = Timestamp.parse(text, defaultTimeZone: TimeZone(identifier: "UTC")!) {
                threshold = .date(date)
            } else {
                reader.error("\(field).\(name) must be a number or an ISO 8601 date, found '\(text)'", at: node)
                return nil
            }
            let orEqual = name.hasSuffix("e")
            return name.hasPrefix("g") ? .greater(threshold, orEqual: orEqual) : .less(threshold, orEqual: orEqual)
        }
    }

    /// `12`, `-3.5`, `1e3`: a JSON-style number, so that `2026-05-09` is read as a date.
    static func isNumber(_ text: String) -> Bool {
        var rest = Substring(text)
        if rest.first == "-" || rest.first == "+" { rest = rest.dropFirst() }
        let mantissa = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        guard !mantissa.isEmpty, mantissa.filter({ $0 == "." }).count <= 1, mantissa.contains(where: \.isNumber) else {
            return false
        }
        rest = rest.dropFirst(mantissa.count)
        if rest.first == "e" || rest.first == "E" {
            rest = rest.dropFirst()
            if rest.first == "-" || rest.first == "+" { rest = rest.dropFirst() }
            guard !rest.isEmpty, rest.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
            return true
        }
        return rest.isEmpty
    }

    func loadSend(_ node: Node, rule: String, locations: inout [String: SourceLocation]) -> Send? {
        guard let members = reader.mapping(node, what: "send", allowed: Self.sendKeys) else { return nil }
        var values: [String: String] = [:]
        var atLeastOnce = false
        var unsetTo: String?
        for member in members {
            locations["send.\(member.key)"] = Self.location(member.value)
            if member.key == "at_least_once" {
                atLeastOnce = reader.bool(member.value, what: "send.at_least_once") ?? false
                continue
            }
            guard let text = reader.string(member.value, what: "send.\(member.key)") else { continue }
            if member.key == "to" {
                let expanded = loader.expand(text, at: member.value, usedBy: "rule '\(rule)' send.to")
                values["to"] = expanded.value
                if !expanded.missing.isEmpty { unsetTo = text }
            } else {
                values[member.key] = text
            }
        }
        guard let channel = values["channel"] else {
            reader.error("send needs a 'channel'", at: node)
            return nil
        }
        guard let template = values["template"] else {
            reader.error("send needs a 'template'", at: node)
            return nil
        }
        return Send(
            channel: channel, template: template, to: values["to"], locale: values["locale"], fallback: values["fallback"],
            atLeastOnce: atLeastOnce, unsetTo: unsetTo)
    }
}
