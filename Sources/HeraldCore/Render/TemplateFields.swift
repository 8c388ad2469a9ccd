/// The names a template can print, as the renderer answers them (`RootField`, `OrderField`,
/// `PersonField`, `ItemField`); `herald check` reports any other name with its
/// line, column and a "did you mean". `payload.*` is the provider's own JSON: anything under it
/// is allowed.
enum TemplateFields {
    indirect enum Node: Sendable {
        case value
        /// The provider's JSON: any path below it.
        case any
        case object([String: Node])
        case list(Node)
    }

    static let root: Node = .object([
        "provider": .value, "event": .value, "sandbox": .value,
        "occurred_at": .value, "occurred_date": .value, "occurred_time": .value,
        "payload": .any,
        "order": .object(
            Dictionary(uniqueKeysWithValues: OrderField.names.map { ($0, Node.value) })),
        "customer": .object(
            Dictionary(uniqueKeysWithValues: PersonField.customerNames.map { ($0, Node.value) })),
        "driver": .object(
            Dictionary(uniqueKeysWithValues: PersonField.driverNames.map { ($0, Node.value) })),
        "items": .list(
            .object(Dictionary(uniqueKeysWithValues: ItemField.names.map { ($0, Node.value) }))),
    ])

    /// The names that would resolve where a tag stands: full names from the event, and the
    /// members of the innermost section's value. For "did you mean" suggestions.
    static func names(sections: [TemplateTag.Section]) -> [String] {
        var names: [String] = []
        func walk(_ node: Node, _ prefix: String) {
            switch node {
            case .value, .any, .list: if !prefix.isEmpty { names.append(prefix) }
            case .object(let members):
                for (key, child) in members { walk(child, prefix.isEmpty ? key : prefix + "." + key) }
            }
        }
        walk(root, "")
        if let innermost = contexts(sections).last, case .object = innermost { walk(innermost, "") }
        return Array(Set(names)).sorted()
    }

    /// The values the open sections push, outermost first (lists push their element).
    static func contexts(_ sections: [TemplateTag.Section]) -> [Node] {
        var contexts: [Node] = [root]
        for section in sections where !section.inverted {
            guard let node = resolve(section.name, in: contexts) else { continue }
            if case .list(let element) = node { contexts.append(element) } else { contexts.append(node) }
        }
        return contexts
    }

    /// Whether `name` resolves where it stands: Mustache looks the first part up in the innermost
    /// section's value, then outwards to the event itself.
    static func resolves(_ name: String, sections: [TemplateTag.Section]) -> Bool {
        resolve(name, in: contexts(sections)) != nil
    }

    static func resolve(_ name: String, in contexts: [Node]) -> Node? {
        if name == "." { return contexts.last }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        for context in contexts.reversed() {
            guard let first = child(parts[0], of: context) else { continue }
            var node = first
            for part in parts.dropFirst() {
                guard let next = child(part, of: node) else { return nil }
                node = next
            }
            return node
        }
        return nil
    }

    static func child(_ name: String, of node: Node) -> Node? {
        switch node {
        case .value: return nil
        case .any: return .any
        case .object(let members): return members[name]
        case .list(let element):
            // `items.0.name` indexes the list; inside {{#items}} the element is the context.
            return Int(name) != nil ? element : nil
        }
    }
}
