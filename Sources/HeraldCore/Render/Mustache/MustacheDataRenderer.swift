/// Renders a parsed template over JSON data, as the Mustache specification defines it: names are
/// looked up through the stack of section values, a missing name renders empty, `{{name}}` is
/// HTML-escaped when `escapesHTML` is on, and `{{>name}}` renders a template of `partials`.
///
/// The specification's tests run in this mode (HTML escaping on); HTTP gateway bodies use it with
/// escaping off. Messages use `MessageTemplate`, whose names are resolved against the canonical
/// event when the template loads.
public struct MustacheDataRenderer: Sendable {
    public var escapesHTML: Bool
    public var partials: [String: String]

    public init(escapesHTML: Bool = true, partials: [String: String] = [:]) {
        self.escapesHTML = escapesHTML
        self.partials = partials
    }

    public func render(_ nodes: [MustacheNode], data: JSONValue) -> String {
        var output = ""
        var stack = [data]
        render(nodes, stack: &stack, into: &output, depth: 0)
        return output
    }

    func render(_ nodes: [MustacheNode], stack: inout [JSONValue], into output: inout String, depth: Int) {
        for node in nodes {
            switch node {
            case .text(let text):
                output += text
            case .variable(let name, let escaped, _):
                guard let value = Self.lookup(name, in: stack) else { continue }
                let text = Self.text(of: value)
                output += escaped && escapesHTML ? Self.escapeHTML(text) : text
            case .section(let name, let inverted, let children, _):
                let value = Self.lookup(name, in: stack)
                if inverted {
                    if !Self.isTruthy(value) { render(children, stack: &stack, into: &output, depth: depth) }
                } else if case .array(let elements)? = value {
                    for element in elements {
                        stack.append(element)
                        render(children, stack: &stack, into: &output, depth: depth)
                        stack.removeLast()
                    }
                } else if let value, Self.isTruthy(value) {
                    stack.append(value)
                    render(children, stack: &stack, into: &output, depth: depth)
                    stack.removeLast()
                }
            case .partial(let name, let indentation, _):
                // A partial that includes itself stops at a depth no real template reaches.
                guard depth < 100, let source = partials[name],
                    let partial = try? MustacheParser.parse(Self.indent(source, by: indentation))
                else { continue }
                render(partial, stack: &stack, into: &output, depth: depth + 1)
            }
        }
    }

    /// The first part is looked up from the innermost section's value outwards; the rest below it.
    static func lookup(_ name: MustacheName, in stack: [JSONValue]) -> JSONValue? {
        guard let first = name.parts.first else { return stack.last }
        for frame in stack.reversed() {
            guard var value = frame[first] else { continue }
            for part in name.parts.dropFirst() {
                guard let next = value[part] else { return nil }
                value = next
            }
            return value
        }
        return nil
    }

    /// False, null and the empty list hide a section (and show an inverted one).
    static func isTruthy(_ value: JSONValue?) -> Bool {
        switch value {
        case nil, .null?, .bool(false)?: return false
        case .array(let elements)?: return !elements.isEmpty
        default: return true
        }
    }

    static func text(of value: JSONValue) -> String {
        switch value {
        case .string(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let literal): return number(literal)
        case .null, .array, .object: return ""
        }
    }

    /// `1.210` prints `1.21`, `85` prints `85`, `1.0` prints `1`.
    static func number(_ literal: String) -> String {
        guard literal.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let value = Double(literal) else {
            return literal
        }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return value.description
    }

    static func escapeHTML(_ text: String) -> String {
        guard text.contains(where: { $0 == "&" || $0 == "\"" || $0 == "<" || $0 == ">" }) else { return text }
        var result = ""
        for c in text {
            switch c {
            case "&": result += "&amp;"
            case "\"": result += "&quot;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            default: result.append(c)
            }
        }
        return result
    }

    /// A standalone partial's indentation goes in front of each of its lines before it is parsed.
    static func indent(_ source: String, by indentation: String) -> String {
        guard !indentation.isEmpty else { return source }
        var result = indentation
        var rest = source[...]
        while let c = rest.first {
            rest.removeFirst()
            result.append(c)
            if (c == "\n" || c == "\r\n"), !rest.isEmpty { result += indentation }
        }
        return result
    }
}
