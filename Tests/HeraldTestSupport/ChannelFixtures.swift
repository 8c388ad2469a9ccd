import Foundation
import HeraldCore

/// Channels decoded the way rules.yaml's are, from the settings a test writes.
public enum ChannelFixtures {
    /// The channel `c` of a rules file whose only channel has `type` and `settings`; a dotted key
    /// (`headers.Authorization`) is a member of a nested mapping. Throws the loader's `ConfigErrors`.
    public static func channel(_ type: String, _ settings: [String: String]) throws -> RuleSet.Channel {
        var flat: [String] = ["type: \(quoted(type))"]
        var nested: [String: [String]] = [:]
        for (key, value) in settings.sorted(by: { $0.key < $1.key }) {
            if let dot = key.firstIndex(of: ".") {
                let outer = String(key[..<dot]), inner = String(key[key.index(after: dot)...])
                nested[outer, default: []].append("\(quoted(inner)): \(quoted(value))")
            } else {
                flat.append("\(key): \(quoted(value))")
            }
        }
        for (outer, members) in nested.sorted(by: { $0.key < $1.key }) {
            flat.append("\(outer): { \(members.joined(separator: ", ")) }")
        }
        let yaml = "version: 1\nchannels:\n  c: { \(flat.joined(separator: ", ")) }\n"
        let ruleSet = try RuleSet.parse(yaml: yaml, file: "rules.yaml", environment: Environment([:]))
        return ruleSet.channels[0]
    }

    static func quoted(_ text: String) -> String {
        let data = try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
        let array = data.map { String(decoding: $0, as: UTF8.self) } ?? "[\"\"]"
        return String(array.dropFirst().dropLast())
    }
}
