import Foundation

extension TemplateStore {
    /// `herald check`'s look at the templates themselves: every name a template or a WhatsApp
    /// binding prints must be one the canonical event has (`payload.*` is always allowed), else
    /// `fr.mustache:1:52: error: unknown value 'order.refrence'; did you mean 'order.reference'?`.
    public func unknownNames() -> [ConfigError] {
        var problems: [ConfigError] = []
        for name in templates.keys.sorted() {
            let folder = (path as NSString).appendingPathComponent(name)
            for (locale, template) in templates[name]!.sorted(by: { $0.key < $1.key }) {
                let file = (folder as NSString).appendingPathComponent("\(locale).mustache")
                problems += Self.unknownNames(in: template.text, file: file)
            }
            if let binding = bindings[name] {
                let file = (folder as NSString).appendingPathComponent("whatsapp.yaml")
                for (index, parameter) in binding.parameterTexts.enumerated() {
                    let start =
                        binding.parameterPositions.indices.contains(index) ? binding.parameterPositions[index] : (1, 1)
                    problems += Self.unknownNames(in: parameter, file: file, start: start)
                }
            }
        }
        return problems
    }

    /// The unknown names of one template text that starts at `start` (line, column) of `file`.
    static func unknownNames(in text: String, file: String, start: (line: Int, column: Int) = (1, 1)) -> [ConfigError] {
        TemplateTags.scan(text).compactMap { tag in
            guard !TemplateFields.resolves(tag.name, sections: tag.sections) else { return nil }
            var message = "unknown value '\(tag.name)'"
            if let suggestion = Suggestion.closest(to: tag.name, in: TemplateFields.names(sections: tag.sections)) {
                message += "; did you mean '\(suggestion)'?"
            }
            let column = tag.line == 1 ? start.column + tag.column - 1 : tag.column
            return ConfigError(file: file, line: start.line + tag.line - 1, column: column, message: message)
        }
    }
}

extension TemplateStore {
    /// Every name a template may print from the event's root (`items.0.name` stands for the list).
    public static var documentedNames: [String] {
        TemplateFields.names(sections: []).map { $0 == "items" ? "items.0.name" : $0 }
    }
}
