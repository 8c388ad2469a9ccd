/// A message template compiled once: every name already resolved to fields of the canonical event
/// (`ResolvedName`), so rendering walks nodes and switches over enums.
///
/// Herald's message mode over the Mustache tree: nothing is HTML-escaped; in right-to-left locales
/// `{{value}}` is bidi-isolated (`{{{value}}}` and `{{&value}}` are not); a value printed outside
/// any section that the event lacks is reported by `missingNames`, and the message fails.
struct MessageTemplate: Sendable {
    indirect enum Node: Sendable {
        case text(String)
        case value(ResolvedName, isolated: Bool)
        case section(ResolvedName, children: [Node])
        case inverted(ResolvedName, children: [Node])
    }

    let nodes: [Node]
    /// The names printed outside any section, in order of first use, each with its lookup.
    let required: [(name: String, lookup: ResolvedName)]

    init(_ text: String, rightToLeft: Bool) throws(MustacheSyntaxError) {
        let parsed = try MustacheParser.parse(text)
        nodes = try Self.compile(parsed, stack: [.root], sections: [], rightToLeft: rightToLeft)
        var required: [(name: String, lookup: ResolvedName)] = []
        for case .variable(let name, _, _) in parsed where !name.parts.isEmpty {
            let written = name.description
            if !required.contains(where: { $0.name == written }) {
                required.append((written, ResolvedName(name, stack: [.root])))
            }
        }
        self.required = required
    }

    /// `sections`: the sections around the nodes that pushed a single text value, each with the
    /// depth of that value on the stack.
    static func compile(
        _ nodes: [MustacheNode], stack: [ResolvedName.Shape], sections: [(depth: Int, lookup: ResolvedName)],
        rightToLeft: Bool
    ) throws(MustacheSyntaxError) -> [Node] {
        var result: [Node] = []
        for node in nodes {
            switch node {
            case .text(let text):
                result.append(.text(text))
            case .variable(let name, let escaped, _):
                var lookup = ResolvedName(name, stack: stack)
                // The same lookup as a text section around it finds the value that section pushed.
                if !lookup.isImplicit,
                    let section = sections.last(where: { $0.lookup.candidates == lookup.candidates })
                {
                    lookup = lookup.reading(frame: section.depth)
                }
                result.append(.value(lookup, isolated: escaped && rightToLeft))
            case .section(let name, let inverted, let children, _):
                let lookup = ResolvedName(name, stack: stack)
                if inverted {
                    let inner = try compile(children, stack: stack, sections: sections, rightToLeft: rightToLeft)
                    result.append(.inverted(lookup, children: inner))
                } else {
                    let element: ResolvedName.Shape = lookup.shape == .items ? .item : lookup.shape
                    let pushed = lookup.shape == .text && !lookup.isImplicit ? [(stack.count, lookup)] : []
                    let inner = try compile(
                        children, stack: stack + [element], sections: sections + pushed, rightToLeft: rightToLeft)
                    result.append(.section(lookup, children: inner))
                }
            case .partial(let name, _, let position):
                throw MustacheSyntaxError(
                    position: position, message: "partials ({{>\(name)}}) are not supported in message templates")
            }
        }
        return result
    }

    func render(_ context: TemplateContext) -> String {
        var output = ""
        var stack: [EventValue] = [.root]
        Self.render(nodes, context: context, stack: &stack, into: &output)
        return output
    }

    /// The names printed outside a section that this event lacks.
    func missingNames(_ context: TemplateContext) -> [String] {
        required.compactMap { name, lookup in Self.isMissing(lookup, in: context) ? name : nil }
    }

    /// Whether `lookup`, from the event itself, finds no value.
    static func isMissing(_ lookup: ResolvedName, in context: TemplateContext) -> Bool {
        if case .missing = value(lookup, context: context, stack: [.root]) { return true }
        return false
    }

    static func render(_ nodes: [Node], context: TemplateContext, stack: inout [EventValue], into output: inout String)
    {
        for node in nodes {
            switch node {
            case .text(let text):
                output += text
            case .value(let name, let isolated):
                switch value(name, context: context, stack: stack) {
                case .text(let text): output += isolated ? Bidi.isolate(text) : text
                case .flag(let flag):
                    let text = flag ? "true" : "false"
                    output += isolated ? Bidi.isolate(text) : text
                default: break
                }
            case .section(let name, let children):
                let found = value(name, context: context, stack: stack)
                switch found {
                case .missing, .flag(false): break
                case .items:
                    for index in context.event.items.indices {
                        stack.append(.item(index))
                        render(children, context: context, stack: &stack, into: &output)
                        stack.removeLast()
                    }
                case .json(.array(let elements)):
                    for element in elements {
                        let wrapped = EventValue.wrap(element)
                        if case .missing = wrapped { continue }
                        stack.append(wrapped)
                        render(children, context: context, stack: &stack, into: &output)
                        stack.removeLast()
                    }
                default:
                    stack.append(found)
                    render(children, context: context, stack: &stack, into: &output)
                    stack.removeLast()
                }
            case .inverted(let name, let children):
                if !isTruthy(value(name, context: context, stack: stack)) {
                    render(children, context: context, stack: &stack, into: &output)
                }
            }
        }
    }

    static func isTruthy(_ value: EventValue) -> Bool {
        switch value {
        case .missing: return false
        case .flag(let flag): return flag
        case .json(.array(let elements)): return elements.contains { $0 != .null }
        default: return true
        }
    }

    static func value(_ name: ResolvedName, context: TemplateContext, stack: [EventValue]) -> EventValue {
        if let frame = name.frame { return stack[frame] }
        if name.isImplicit { return stack[stack.count - 1] }
        for candidate in name.candidates {
            var found = step(candidate.steps[0], on: stack[candidate.depth], context: context)
            if case .missing = found { continue }
            if candidate.broken { return .missing }
            for next in candidate.steps.dropFirst() {
                found = step(next, on: found, context: context)
                if case .missing = found { return .missing }
            }
            return found
        }
        return .missing
    }

    static func step(_ step: ResolvedName.Step, on base: EventValue, context: TemplateContext) -> EventValue {
        switch (step, base) {
        case (.root(let field), .root): return field.value(in: context)
        case (.order(let field), .order): return field.value(in: context)
        case (.person(let field), .customer): return field.value(in: context, driver: false)
        case (.person(let field), .driver): return field.value(in: context, driver: true)
        case (.item(let field), .item(let index)): return field.value(in: context, index: index)
        case (.index(let index), .items):
            return context.event.items.indices.contains(index) ? .item(index) : .missing
        case (.key(let key, let index), .json(let json)):
            if case .array(let elements) = json {
                guard let index, elements.indices.contains(index) else { return .missing }
                return .wrap(elements[index])
            }
            return json[key].map(EventValue.wrap) ?? .missing
        case (.named(let part), _):
            guard let (resolved, _) = ResolvedName.step(part, on: shape(of: base)) else { return .missing }
            return self.step(resolved, on: base, context: context)
        default:
            return .missing
        }
    }

    static func shape(of value: EventValue) -> ResolvedName.Shape {
        switch value {
        case .root: return .root
        case .order: return .order
        case .customer: return .customer
        case .driver: return .driver
        case .items: return .items
        case .item: return .item
        case .json: return .json
        case .text, .missing: return .text
        case .flag: return .flag
        }
    }
}
