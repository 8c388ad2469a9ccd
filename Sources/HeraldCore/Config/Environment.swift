import Foundation

/// The variables `${NAME}` references expand from; the process environment in production, a
/// dictionary in tests.
public struct Environment: Sendable {
    public var values: [String: String]

    public init(_ values: [String: String]) { self.values = values }

    public static var process: Environment { Environment(ProcessInfo.processInfo.environment) }

    /// Expands every `${NAME}` in `text`. Unset (or empty) variables expand to nothing and are
    /// returned in `missing`, so the caller decides whether that is an error or a held door.
    public func expand(_ text: String) -> (value: String, missing: [String]) {
        guard text.contains("${") else { return (text, []) }
        var result = ""
        var missing: [String] = []
        var rest = text[...]
        while let open = rest.range(of: "${") {
            result += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
                result += rest[open.lowerBound...]
                rest = rest[rest.endIndex...]
                break
            }
            let name = String(rest[open.upperBound..<close])
            if let value = values[name], !value.isEmpty {
                result += value
            } else {
                missing.append(name)
            }
            rest = rest[rest.index(after: close)...]
        }
        result += rest
        return (result, missing)
    }
}

/// A secret from the environment. Its value never appears in descriptions or logs.
public struct Secret: Sendable, CustomStringConvertible {
    /// What the file says, such as `${COD_WEBHOOK_SECRET}`.
    public var reference: String
    /// The expanded value; nil when a variable it needs is unset.
    public var value: String?
    /// The variables that were unset.
    public var missing: [String]

    public init(reference: String, environment: Environment) {
        self.reference = reference
        let (value, missing) = environment.expand(reference)
        self.value = missing.isEmpty && !value.isEmpty ? value : nil
        self.missing = missing
    }

    /// A literal secret, for tests and programmatic use.
    public init(literal: String) {
        self.reference = "<literal>"
        self.value = literal
        self.missing = []
    }

    public var description: String { value == nil ? "\(reference) (unset)" : "\(reference) (set)" }
}
