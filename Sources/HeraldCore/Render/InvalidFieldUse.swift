import Foundation

/// Which of an event's unreadable values (`CanonicalEvent.invalidFields`) a template prints: its
/// message then fails with the reason, instead of printing nothing where the text needs a value.
///
/// A value printed only inside a section that tests it (`{{#order.amount}} ({{order.amount}}){{/order.amount}}`)
/// does not fail the message: the author wrote the text for an order without one, and the amount is
/// absent, not wrong. A section that only tests the value does not print it either.
enum InvalidFieldUse {
    /// The reasons for the invalid values that `templates` print, in path order.
    static func problems(_ invalid: [String: String], templates: [String]) -> [String] {
        let printed = Set(templates.flatMap(printedNames))
        return invalid.sorted { $0.key < $1.key }.compactMap { path, reason in
            names(printing: path).contains(where: printed.contains) ? reason : nil
        }
    }

    /// The template names that print the value at `path` (see TemplateContext).
    static func names(printing path: String) -> [String] {
        if path == CanonicalField.orderAmount.rawValue {
            return ["order.amount", "order.amount_formatted", "order.amount_value"]
        }
        let parts = path.split(separator: ".")
        guard parts.count == 3, parts[0] == "items" else { return [path] }
        // `{{price}}` inside `{{#items}}` prints every line's price; a line without a readable
        // quantity also makes the item count wrong.
        var names = ["items.\(parts[2])", path]
        if parts[2] == "quantity" { names += ["order.items_count", "order.items_phrase"] }
        return names
    }

    /// Every variable a template inserts outside a section testing that same name, also qualified
    /// by each section around it (`{{price}}` inside `{{#items}}` is `price` and `items.price`).
    static func printedNames(_ text: String) -> [String] {
        var names: [String] = []
        var sections: [(name: String, inverted: Bool)] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            var tag = rest[open.upperBound...]
            let triple = tag.hasPrefix("{")
            if triple { tag = tag.dropFirst() }
            guard let close = tag.range(of: "}}") else { break }
            rest = tag[close.upperBound...]
            if triple, rest.hasPrefix("}") { rest = rest.dropFirst() }
            var name = tag[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            guard let sigil = name.first else { continue }
            switch sigil {
            case "#", "^":
                sections.append((String(name.dropFirst()).trimmingCharacters(in: .whitespaces), sigil == "^"))
            case "/": if !sections.isEmpty { sections.removeLast() }
            case "!", ">", "%", "=": continue
            default:
                if sigil == "&" { name = String(name.dropFirst()).trimmingCharacters(in: .whitespaces) }
                let qualified = [name] + sections.map { "\($0.name).\(name)" }
                let guarded = sections.contains { !$0.inverted && qualified.contains($0.name) }
                if !guarded { names += qualified }
            }
        }
        return names
    }
}
