import Foundation
import HeraldCore
import Testing

/// One test of the Mustache specification (`Tests/specs/mustache/*.json`).
struct MustacheSpecCase: Sendable, CustomTestStringConvertible {
    var file: String
    var name: String
    var data: JSONValue
    var template: String
    var expected: String
    var partials: [String: String]

    var id: String { "\(file): \(name)" }
    var testDescription: String { id }
}

enum MustacheSpec {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("specs/mustache")

    /// Cases the renderer does not pass, with the reason (the README's templates section lists them
    /// too). Empty: every case of the copied files passes.
    static let unsupported: [String: String] = [:]

    static let cases: [MustacheSpecCase] = {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".json") }.sorted()
        return files.flatMap { file -> [MustacheSpecCase] in
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(file).path),
                let spec = try? JSONParser.parse(data), case .array(let tests)? = spec["tests"]
            else { return [] }
            return tests.map { test in
                var partials: [String: String] = [:]
                if case .object(let members)? = test["partials"] {
                    for (key, value) in members { partials[key] = value.scalarText ?? "" }
                }
                return MustacheSpecCase(
                    file: String(file.dropLast(".json".count)), name: test["name"]?.scalarText ?? "?",
                    data: test["data"] ?? .null, template: test["template"]?.scalarText ?? "",
                    expected: test["expected"]?.scalarText ?? "", partials: partials)
            }
        }
    }()

    static func render(_ test: MustacheSpecCase) -> String? {
        guard let nodes = try? MustacheParser.parse(test.template) else { return nil }
        return MustacheDataRenderer(escapesHTML: true, partials: test.partials).render(nodes, data: test.data)
    }
}

@Suite("Mustache specification")
struct MustacheSpecTests {
    @Test(arguments: MustacheSpec.cases)
    func specCase(_ test: MustacheSpecCase) {
        let rendered = MustacheSpec.render(test)
        if let reason = MustacheSpec.unsupported[test.id] {
            // A case listed as unsupported that passes is a stale entry.
            #expect(rendered != test.expected, "listed unsupported (\(reason)) but passes")
        } else {
            #expect(rendered == test.expected, "\(test.template.debugDescription)")
        }
    }

    @Test func everySpecFileIsRead() {
        let names = Set(MustacheSpec.cases.map(\.file))
        #expect(names == ["comments", "delimiters", "interpolation", "inverted", "partials", "sections"])
        #expect(MustacheSpec.cases.count == 136)
        let ids = Set(MustacheSpec.cases.map(\.id))
        #expect(MustacheSpec.unsupported.keys.allSatisfy(ids.contains))
    }
}

@Suite("Mustache syntax errors")
struct MustacheSyntaxErrorTests {
    func error(_ text: String) -> String? {
        do {
            _ = try MustacheParser.parse(text)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func errorsPointAtTheTagAtFault() {
        #expect(error("Hi {{#a}}\nthere") == "1:4: a section is opened but never closed ({{/a}} missing)")
        #expect(error("Hi\n  {{#a}}{{/b}}") == "2:9: the closing tag does not match the open section ({{/a}} expected)")
        #expect(error("{{/a}}") == "1:1: a closing tag with no open section")
        #expect(error("one\ntwo {{name") == "2:5: a tag is not closed with }}")
        #expect(error("x\n{{=<% %>=}}<%name") == "2:12: a tag is not closed with %>")
        #expect(error("{{= <% =}}") == "1:1: invalid delimiter change")
        #expect(error("{{=a= b=}}") == "1:1: invalid delimiter change")
        #expect(error("{{}}") == "1:1: a tag without a name")
        #expect(error("{{a..b}}") == "1:1: invalid name 'a..b'")
        #expect(error("é {{#a}}{{/a}} {{b}}") == nil)
    }

    @Test func templateFilesReportTheirLineAndColumn() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "herald-mustache-\(UUID().uuidString)")
        let delivered = folder.appendingPathComponent("delivered")
        try FileManager.default.createDirectory(at: delivered, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "Bonjour\n{{#customer.name}}{{name}}{{/order}}\n".write(
            to: delivered.appendingPathComponent("fr.mustache"), atomically: true, encoding: .utf8)
        try "Hi {{>footer}}\n".write(
            to: delivered.appendingPathComponent("en.mustache"), atomically: true, encoding: .utf8)
        #expect(throws: TemplateErrors.self) { try TemplateStore.load(path: folder.path) }
        do {
            _ = try TemplateStore.load(path: folder.path)
        } catch let errors as TemplateErrors {
            #expect(
                errors.errors.map(\.description) == [
                    "\(delivered.path)/en.mustache:1:4: error: partials ({{>footer}}) are not supported "
                        + "in message templates",
                    "\(delivered.path)/fr.mustache:2:27: error: the closing tag does not match the open section "
                        + "({{/customer.name}} expected)",
                ])
        }
    }
}
