import Yams

/// Reads a composed YAML tree with positions, collecting errors instead of stopping at the first.
///
/// Every accessor reports problems at the node's own line and column, so `herald check` and
/// `herald serve` can point at the exact place in the file.
final class YAMLReader {
    let file: String
    private(set) var errors: [ConfigError] = []
    private(set) var warnings: [ConfigError] = []

    init(file: String) { self.file = file }

    func error(_ message: String, at node: Node?) {
        let mark = node?.mark
        errors.append(ConfigError(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message))
    }

    /// An error that `herald check` reports but that does not stop loading (like an unset variable).
    func checkError(_ message: String, at node: Node?) {
        let mark = node?.mark
        warnings.append(ConfigError(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message))
    }

    func warning(_ message: String, at node: Node?) {
        let mark = node?.mark
        warnings.append(
            ConfigError(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1, severity: .warning, message: message))
    }

    /// The members of a mapping, keyed by their string; reports unknown keys with a suggestion.
    func mapping(_ node: Node, what: String, allowed: [String]? = nil) -> [(key: String, keyNode: Node, value: Node)]? {
        guard case .mapping(let mapping) = node else {
            error("\(what) must be a mapping (key: value), found \(kind(of: node))", at: node)
            return nil
        }
        var members: [(key: String, keyNode: Node, value: Node)] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                error("keys of \(what) must be plain words", at: keyNode)
                continue
            }
            if let allowed, !allowed.contains(scalar.string) {
                var message = "unknown key '\(scalar.string)' in \(what)"
                if let suggestion = Suggestion.closest(to: scalar.string, in: allowed) {
                    message += "; did you mean '\(suggestion)'?"
                }
                error(message, at: keyNode)
                continue
            }
            members.append((scalar.string, keyNode, value))
        }
        return members
    }

    /// The first node that carries an anchor (`&name`), found without expanding any alias.
    ///
    /// Yams resolves `*name` to the anchored node itself, so a tree with aliases can be
    /// exponentially larger than its text ("billion laughs"). An alias always follows its anchor,
    /// so stopping at the first anchor bounds this walk by the size of the text.
    static func firstAnchored(_ node: Node) -> Node? {
        if node.anchor != nil { return node }
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping {
                if let found = firstAnchored(key) ?? firstAnchored(value) { return found }
            }
        case .sequence(let sequence):
            for element in sequence {
                if let found = firstAnchored(element) { return found }
            }
        case .scalar, .alias:
            break
        }
        return nil
    }

    func sequence(_ node: Node, what: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            error("\(what) must be a list, found \(kind(of: node))", at: node)
            return nil
        }
        return Array(sequence)
    }

    func string(_ node: Node, what: String) -> String? {
        guard case .scalar(let scalar) = node else {
            error("\(what) must be a single value, found \(kind(of: node))", at: node)
            return nil
        }
        return scalar.string
    }

    /// One value or a list of values, as `to: delivered` or `to: [returned, Failed]`.
    func strings(_ node: Node, what: String) -> [String]? {
        switch node {
        case .scalar(let scalar): return [scalar.string]
        case .sequence(let sequence):
            var values: [String] = []
            for element in sequence {
                guard let s = string(element, what: "each entry of \(what)") else { return nil }
                values.append(s)
            }
            return values
        default:
            error("\(what) must be a value or a list of values, found \(kind(of: node))", at: node)
            return nil
        }
    }

    func bool(_ node: Node, what: String) -> Bool? {
        guard case .scalar(let scalar) = node else {
            error("\(what) must be true or false, found \(kind(of: node))", at: node)
            return nil
        }
        switch scalar.string {
        case "true", "True", "TRUE", "yes", "on": return true
        case "false", "False", "FALSE", "no", "off": return false
        default:
            error("\(what) must be true or false, found '\(scalar.string)'", at: node)
            return nil
        }
    }

    func number(_ node: Node, what: String) -> Double? {
        guard case .scalar(let scalar) = node, let value = Double(scalar.string) else {
            error("\(what) must be a number", at: node)
            return nil
        }
        return value
    }

    func kind(of node: Node) -> String {
        switch node {
        case .scalar(let s): return "'\(s.string)'"
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}
