import Foundation
import Yams

/// A message template in one locale, compiled once.
public struct CompiledTemplate: Sendable {
    public var name: String
    public var locale: String
    /// The file's text (without the trailing newline).
    public var text: String
    /// The text compiled against the canonical event; it also knows the values it prints outside
    /// a section, reported when the event has no value.
    let message: MessageTemplate
    /// The names it prints outside a section testing them (`InvalidFieldUse.printedNames`).
    let printedNames: Set<String>
}

/// Binds a message to a Meta-approved WhatsApp template (`templates/<name>/whatsapp.yaml`).
public struct WhatsAppBinding: Sendable {
    /// The approved template's name at Meta.
    public var name: String
    /// Herald locale → Meta language code (`ar` → `ar`, `en` → `en_US`).
    public var languages: [String: String]
    /// Ordered body parameters, each a small Mustache expression.
    let parameters: [String: [MessageTemplate]]
    public var parameterTexts: [String]
    /// The names the parameters print outside a section testing them (`InvalidFieldUse`).
    let printedNames: Set<String>
    /// Where each parameter's text starts in `whatsapp.yaml` (line, column), for `herald check`.
    var parameterPositions: [(line: Int, column: Int)] = []
    /// The values the parameters print outside a section: Meta refuses an empty parameter, so a
    /// missing one fails the message. Found once at load, not at every render.
    let required: [(name: String, lookup: ResolvedName)]

    init(
        name: String, languages: [String: String], parameters: [String: [MessageTemplate]], parameterTexts: [String],
        parameterPositions: [(line: Int, column: Int)]
    ) {
        self.name = name
        self.languages = languages
        self.parameters = parameters
        self.parameterTexts = parameterTexts
        self.parameterPositions = parameterPositions
        printedNames = Set(parameterTexts.flatMap(InvalidFieldUse.printedNames))
        // Names resolve the same way in every locale: any locale's parameters tell them.
        var required: [(name: String, lookup: ResolvedName)] = []
        for parameter in parameters.values.first ?? [] {
            for entry in parameter.required where !required.contains(where: { $0.name == entry.name }) {
                required.append(entry)
            }
        }
        self.required = required
    }
}

/// Why the templates folder could not be loaded.
public struct TemplateError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var message: String

    public var description: String { "\(file): error: \(message)" }
}

/// `templates/<name>/<locale>.mustache` (and optional `whatsapp.yaml`), loaded and compiled once.
public struct TemplateStore: Sendable {
    public var path: String
    var templates: [String: [String: CompiledTemplate]]
    var bindings: [String: WhatsAppBinding]

    /// A store from templates compiled by `compile(_:name:locale:)`, for tests and tools.
    public init(path: String = "", templates: [String: [String: CompiledTemplate]], bindings: [String: WhatsAppBinding] = [:]) {
        self.path = path
        self.templates = templates
        self.bindings = bindings
    }

    /// Loads every template under `path`; throws every file that does not compile.
    ///
    /// A folder that does not exist, is not readable or holds no template at all does not load
    /// either: every message would fail later, so `serve`, `check` and `dry-run` stop at once.
    public static func load(path: String) throws -> TemplateStore {
        let manager = FileManager.default
        var templates: [String: [String: CompiledTemplate]] = [:]
        var bindings: [String: WhatsAppBinding] = [:]
        var errors: [TemplateError] = []
        if let problem = folderProblem(path: path) { throw TemplateErrors(errors: [problem]) }
        let names = (try? manager.contentsOfDirectory(atPath: path)) ?? []
        for name in names.sorted() {
            let folder = (path as NSString).appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            for file in ((try? manager.contentsOfDirectory(atPath: folder)) ?? []).sorted() {
                let filePath = (folder as NSString).appendingPathComponent(file)
                if file == "whatsapp.yaml" {
                    do {
                        bindings[name] = try loadBinding(filePath)
                    } catch let error as TemplateError {
                        errors.append(error)
                    }
                    continue
                }
                guard file.hasSuffix(".mustache") else { continue }
                let locale = String(file.dropLast(".mustache".count))
                guard let data = manager.contents(atPath: filePath), let raw = String(data: data, encoding: .utf8) else {
                    errors.append(TemplateError(file: filePath, message: "not readable UTF-8 text"))
                    continue
                }
                do {
                    templates[name, default: [:]][locale] = try compile(raw, name: name, locale: locale)
                } catch {
                    errors.append(TemplateError(file: "\(filePath):\(error.position)", message: error.message))
                }
            }
        }
        if !errors.isEmpty { throw TemplateErrors(errors: errors) }
        return TemplateStore(path: path, templates: templates, bindings: bindings)
    }

    /// Why `path` cannot be a templates folder: it does not exist, is not a readable folder, or
    /// holds no `<name>/<locale>.mustache` at all. Nil when it has at least one template.
    public static func folderProblem(path: String) -> TemplateError? {
        let manager = FileManager.default
        var isFolder: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isFolder) else {
            return TemplateError(file: path, message: "no templates folder here (see --templates)")
        }
        guard isFolder.boolValue, let names = try? manager.contentsOfDirectory(atPath: path) else {
            return TemplateError(file: path, message: "not a readable templates folder")
        }
        let hasTemplate = names.contains { name in
            let folder = (path as NSString).appendingPathComponent(name)
            let files = (try? manager.contentsOfDirectory(atPath: folder)) ?? []
            return files.contains { $0.hasSuffix(".mustache") }
        }
        guard hasTemplate else {
            return TemplateError(file: path, message: "no templates in this folder (expected <name>/<locale>.mustache)")
        }
        return nil
    }

    /// Compiles one template's text for `locale` (right-to-left locales isolate inserted values).
    public static func compile(_ raw: String, name: String, locale: String) throws(MustacheSyntaxError) -> CompiledTemplate {
        var text = raw
        while let last = text.last, last.isNewline { text.removeLast() }
        let message = try MessageTemplate(text, rightToLeft: Bidi.isRightToLeft(locale))
        return CompiledTemplate(
            name: name, locale: locale, text: text, message: message,
            printedNames: Set(InvalidFieldUse.printedNames(text)))
    }

    static func loadBinding(_ path: String) throws -> WhatsAppBinding {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8),
            let node = try? Yams.compose(yaml: text), case .mapping(let mapping) = node
        else { throw TemplateError(file: path, message: "must be a YAML mapping with name, languages and body") }
        var name: String?
        var languages: [String: String] = [:]
        var body: [String] = []
        var positions: [(line: Int, column: Int)] = []
        for (key, value) in mapping {
            switch key.string {
            case "name": name = value.string
            case "languages":
                guard case .mapping(let entries) = value else { throw TemplateError(file: path, message: "languages must map locales to Meta language codes") }
                for (locale, code) in entries { if let l = locale.string, let c = code.string { languages[l] = c } }
            case "body":
                guard case .sequence(let list) = value else { throw TemplateError(file: path, message: "body must be a list of parameters") }
                body = list.compactMap(\.string)
                positions = list.filter { $0.string != nil }.map { item in
                    let quoted = item.scalar.map { $0.style == .singleQuoted || $0.style == .doubleQuoted } ?? false
                    return (item.mark?.line ?? 1, (item.mark?.column ?? 1) + (quoted ? 1 : 0))
                }
            default:
                throw TemplateError(file: path, message: "unknown key '\(key.string ?? "?")' (name, languages, body)")
            }
        }
        guard let name, !name.isEmpty else { throw TemplateError(file: path, message: "needs the approved template's name") }
        guard !languages.isEmpty else { throw TemplateError(file: path, message: "needs languages: { ar: ar, fr: fr, en: en_US }") }
        var parameters: [String: [MessageTemplate]] = [:]
        for locale in languages.keys.sorted() {
            do {
                parameters[locale] = try body.map { try MessageTemplate($0, rightToLeft: Bidi.isRightToLeft(locale)) }
            } catch {
                throw TemplateError(file: path, message: "a body parameter does not compile: \(error)")
            }
        }
        return WhatsAppBinding(
            name: name, languages: languages, parameters: parameters, parameterTexts: body, parameterPositions: positions)
    }

    /// The template for `locale`, falling back `ar-MA` → `ar` → `defaultLocale`.
    public func template(_ name: String, locale: String, defaultLocale: String) -> CompiledTemplate? {
        guard let byLocale = templates[name] else { return nil }
        if let exact = byLocale[locale] { return exact }
        for candidate in Self.fallbacks(locale, defaultLocale: defaultLocale) {
            if let template = byLocale[candidate] { return template }
        }
        return nil
    }

    public func binding(_ name: String) -> WhatsAppBinding? { bindings[name] }

    public func has(_ name: String) -> Bool { templates[name] != nil }

    public func locales(of name: String) -> [String] { templates[name].map { Array($0.keys).sorted() } ?? [] }

    static func fallbacks(_ locale: String, defaultLocale: String) -> [String] {
        var list = [locale]
        let language = PluralRules.language(of: locale)
        if language != locale { list.append(language) }
        if !list.contains(defaultLocale) { list.append(defaultLocale) }
        return list
    }
}

public struct TemplateErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [TemplateError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
