/// The tags of a Mustache template with their line and column, and the sections around each.
///
/// `herald check` reads them here to point at `fr.mustache:3:17`, and `InvalidFieldUse` to know
/// which values are printed outside a section that guards them.
struct TemplateTag: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// `{{name}}`, `{{{name}}}`, `{{&name}}`.
        case variable
        /// `{{#name}}` (pushes the value as context) or `{{^name}}` (inverted).
        case section(inverted: Bool)
        case close
    }

    var kind: Kind
    /// The name as written, trimmed (`order.reference`, `.`).
    var name: String
    /// 1-based, in characters of the template file.
    var line: Int
    var column: Int
    /// The names of the open sections around the tag, outermost first (inverted ones included).
    var sections: [Section]

    struct Section: Sendable, Equatable {
        var name: String
        var inverted: Bool
    }

    /// Inside a section (`{{#x}}…{{/x}}` or `{{^x}}…{{/x}}`): printed only when the author chose,
    /// so a value missing there is optional, as the README documents.
    var isGuarded: Bool { !sections.isEmpty }
}

enum TemplateTags {
    /// Every variable, section and closing tag of `text`, in order. Comments, partials, pragmas
    /// and delimiter changes are skipped.
    static func scan(_ text: String) -> [TemplateTag] {
        var tags: [TemplateTag] = []
        var sections: [TemplateTag.Section] = []
        let characters = Array(text)
        var index = 0
        var line = 1
        var lineStart = 0
        func matches(_ literal: String, at position: Int) -> Bool {
            var p = position
            for c in literal {
                guard p < characters.count, characters[p] == c else { return false }
                p += 1
            }
            return true
        }
        while index < characters.count {
            if characters[index].isNewline {
                line += 1
                index += 1
                lineStart = index
                continue
            }
            guard matches("{{", at: index) else {
                index += 1
                continue
            }
            let column = index - lineStart + 1
            let tagLine = line
            var start = index + 2
            let triple = start < characters.count && characters[start] == "{"
            if triple { start += 1 }
            var end = start
            while end < characters.count, !matches("}}", at: end) {
                if characters[end].isNewline {
                    line += 1
                    lineStart = end + 1
                }
                end += 1
            }
            guard end < characters.count else { break }
            index = end + 2
            if triple, index < characters.count, characters[index] == "}" { index += 1 }
            var body = String(characters[start..<end]).trimmingCharacters(in: .whitespaces)
            guard let sigil = body.first else { continue }
            switch sigil {
            case "#", "^":
                body.removeFirst()
                let name = body.trimmingCharacters(in: .whitespaces)
                tags.append(
                    TemplateTag(
                        kind: .section(inverted: sigil == "^"), name: name, line: tagLine, column: column,
                        sections: sections))
                sections.append(TemplateTag.Section(name: name, inverted: sigil == "^"))
            case "/":
                tags.append(TemplateTag(kind: .close, name: "", line: tagLine, column: column, sections: sections))
                if !sections.isEmpty { sections.removeLast() }
            case "!", ">", "%", "=":
                continue
            default:
                if sigil == "&" { body.removeFirst() }
                let name = body.trimmingCharacters(in: .whitespaces)
                tags.append(TemplateTag(kind: .variable, name: name, line: tagLine, column: column, sections: sections))
            }
        }
        return tags
    }
}
