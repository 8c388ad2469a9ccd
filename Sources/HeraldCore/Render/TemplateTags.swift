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
    /// Every variable and section of `text`, in order, read by the parser the renderer uses (so
    /// delimiter changes, comments and standalone lines are read alike); nothing for a text that
    /// does not parse, which does not load either.
    static func scan(_ text: String) -> [TemplateTag] {
        guard let nodes = try? MustacheParser.parse(text) else { return [] }
        var tags: [TemplateTag] = []
        func walk(_ nodes: [MustacheNode], _ sections: [TemplateTag.Section]) {
            for node in nodes {
                switch node {
                case .variable(let name, _, let at):
                    tags.append(
                        TemplateTag(
                            kind: .variable, name: name.description, line: at.line, column: at.column,
                            sections: sections))
                case .section(let name, let inverted, let children, let at):
                    tags.append(
                        TemplateTag(
                            kind: .section(inverted: inverted), name: name.description, line: at.line,
                            column: at.column, sections: sections))
                    walk(children, sections + [TemplateTag.Section(name: name.description, inverted: inverted)])
                case .text, .partial:
                    continue
                }
            }
        }
        walk(nodes, [])
        return tags
    }
}
