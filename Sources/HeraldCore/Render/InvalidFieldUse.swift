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
        problems(invalid, printed: Set(templates.flatMap(printedNames)))
    }

    /// The reasons for the invalid values whose names are among `printed` (`printedNames`, found
    /// once when the templates load).
    static func problems(_ invalid: [String: String], printed: Set<String>) -> [String] {
        invalid.sorted { $0.key < $1.key }.compactMap { path, reason in
            names(printing: path).contains(where: printed.contains) ? reason : nil
        }
    }

    /// The template names that print the value at `path` (see TemplateContext).
    static func names(printing path: String) -> [String] {
        if path == CanonicalField.orderAmount.rawValue {
            return ["order.amount", "order.amount_formatted", "order.amount_value", "order.currency"]
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
        for tag in TemplateTags.scan(text) where tag.kind == .variable {
            let qualified = [tag.name] + tag.sections.map { "\($0.name).\(tag.name)" }
            let guarded = tag.sections.contains { !$0.inverted && qualified.contains($0.name) }
            if !guarded { names += qualified }
        }
        return names
    }
}
