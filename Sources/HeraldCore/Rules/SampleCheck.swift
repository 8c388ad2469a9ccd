import Foundation

/// `herald check --samples DIR`: every body path a provider maps, tried against that provider's
/// sample webhooks (`DIR/<provider>/**/*.json`, bare bodies or `herald export` envelopes).
///
/// A path that resolves in none of the samples is a warning, not an error: a field such as
/// `order.cancellation_reason` may only be sent with events the samples happen not to hold.
/// `header:` and `=constant` sources are not checked, nor a preset's own `dedupe` (its parts are
/// absent from some events by design); providers without a sample folder are skipped.
public struct SampleCheck {
    public var ruleSet: RuleSet
    /// Sample bodies by provider name (parsed JSON; bodies that are not JSON are left out).
    public var samples: [String: [JSONValue]]

    public init(ruleSet: RuleSet, samples: [String: [JSONValue]]) {
        self.ruleSet = ruleSet
        self.samples = samples
    }

    /// Reads `DIR/<provider>/**/*.json` for every provider of the rule set that has a folder there.
    public static func load(directory: String, ruleSet: RuleSet) throws -> [String: [JSONValue]] {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CaptureError("\(directory): no such directory (--samples wants a folder of <provider>/ folders)")
        }
        var samples: [String: [JSONValue]] = [:]
        for provider in ruleSet.providers {
            let folder = URL(fileURLWithPath: directory).appendingPathComponent(provider.name)
            guard let walker = manager.enumerator(at: folder, includingPropertiesForKeys: nil) else { continue }
            var files: [URL] = []
            for case let url as URL in walker where url.pathExtension == "json" { files.append(url) }
            for url in files.sorted(by: { $0.path < $1.path }) {
                guard let data = manager.contents(atPath: url.path) else { continue }
                let decoded = CapturedInput.decode(
                    name: url.lastPathComponent, bytes: Array(data), providerOverride: nil,
                    folderProvider: provider.name)
                guard case .success(let input) = decoded, let body = try? JSONParser.parse(input.body) else { continue }
                samples[provider.name, default: []].append(body)
            }
        }
        return samples
    }

    /// One warning per mapped path that no sample of its provider has, in file order.
    public func run() -> [ConfigError] {
        var problems: [ConfigError] = []
        for provider in ruleSet.providers {
            guard let bodies = samples[provider.name], !bodies.isEmpty else { continue }
            var checked: [(part: String, path: FieldPath)] = []
            for field in CanonicalField.allCases {
                if case .body(let path)? = provider.fields[field] { checked.append(("fields.\(field.rawValue)", path)) }
            }
            if let items = provider.items { checked.append(("items.path", items.path)) }
            // A preset's dedupe lists parts that only some events carry (Elebne's refund amounts).
            for source in provider.dedupe where provider.locations["dedupe"] != nil {
                if case .body(let path) = source { checked.append(("dedupe", path)) }
            }
            if case .body(let path)? = provider.deliveryID { checked.append(("delivery_id", path)) }
            for (part, path) in checked where !bodies.contains(where: { $0.value(at: path) != nil }) {
                let count = bodies.count == 1 ? "the only sample" : "all \(bodies.count) samples"
                var message = "\(part): '\(path)' is absent from \(count) of '\(provider.name)'"
                if let suggestion = Self.suggestion(for: path, in: bodies) {
                    message += "; did you mean '\(suggestion)'?"
                }
                let location = provider.location(of: part)
                problems.append(
                    ConfigError(
                        file: ruleSet.file, line: location.line, column: location.column, severity: .warning,
                        message: message))
            }
        }
        return problems.sorted { ($0.line, $0.column) < ($1.line, $1.column) }
    }

    /// The path with its deepest segment the samples lack replaced by their closest key there.
    static func suggestion(for path: FieldPath, in bodies: [JSONValue]) -> String? {
        for depth in stride(from: path.segments.count - 1, through: 0, by: -1) {
            let parent = FieldPath(path.segments[..<depth].joined(separator: "."))
            var keys: Set<String> = []
            for body in bodies {
                let node = depth == 0 ? body : body.value(at: parent)
                if case .object(let members)? = node { keys.formUnion(members.map(\.key)) }
            }
            guard !keys.isEmpty else { continue }
            guard let closest = Suggestion.closest(to: path.segments[depth], in: keys) else { return nil }
            return (path.segments[..<depth] + [closest] + path.segments[(depth + 1)...]).joined(separator: ".")
        }
        return nil
    }
}
