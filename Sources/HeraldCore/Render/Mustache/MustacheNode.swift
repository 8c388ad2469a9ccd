/// Where a tag starts in a template's text: 1-based line and column, in characters.
public struct MustachePosition: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public var description: String { "\(line):\(column)" }
}

/// A name as a tag writes it: `order.reference` is `["order", "reference"]`; the implicit
/// iterator `.` has no parts. Split once, when the template is parsed.
public struct MustacheName: Sendable, Equatable, CustomStringConvertible {
    public var parts: [String]

    /// The name as written (`.` for the implicit iterator).
    public var description: String { parts.isEmpty ? "." : parts.joined(separator: ".") }
}

/// One piece of a parsed template: the tree both renderers walk (the specification's, over JSON
/// data, and Herald's, over the canonical event; see `MessageTemplate`).
public indirect enum MustacheNode: Sendable, Equatable {
    /// Literal text, standalone lines already removed.
    case text(String)
    /// `{{name}}` (escaped: true) or `{{{name}}}` and `{{&name}}` (escaped: false).
    case variable(MustacheName, escaped: Bool, at: MustachePosition)
    /// `{{#name}}…{{/name}}` or, inverted, `{{^name}}…{{/name}}`.
    case section(MustacheName, inverted: Bool, children: [MustacheNode], at: MustachePosition)
    /// `{{>name}}`; `indentation` is the whitespace before a standalone partial tag, which
    /// prefixes every line of the partial.
    case partial(String, indentation: String, at: MustachePosition)
}

/// Why a template does not compile, and where: `3:17`.
public struct MustacheSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var position: MustachePosition
    public var message: String

    public var description: String { "\(position): \(message)" }
}
