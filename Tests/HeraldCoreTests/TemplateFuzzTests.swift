import Foundation
import HeraldCore
import HeraldTestSupport
import PropertyBased
import Testing

/// Mutated templates (the shipped ones and the specification's) either compile and render, or are
/// refused with a line and column inside the text; neither crashes.
///
///     HERALD_FUZZ_COUNT=20000 swift test --filter TemplateFuzzTests
@Suite("Fuzzing: mutated templates into the Mustache parser and both renderers")
struct TemplateFuzzTests {
    /// Pieces that break a Mustache parser: tag openers and closers, sigils, delimiter changes.
    static let splices = [
        "{{", "}}", "{{#", "{{/", "{{^", "{{!", "{{>", "{{{", "}}}", "{{&", "{{=<% %>=}}", "<%", "%>", "{{=", "=}}",
        "\n", "\r\n", "  ", ".", "{{.}}", "{{#items}}", "{{/items}}", "ليلى", "\u{301}",
    ]

    static let texts: [String] = {
        let folder = Fixtures.root.appendingPathComponent("templates")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let shipped = names.sorted().compactMap { name in
            try? String(contentsOf: folder.appendingPathComponent("\(name)/fr.mustache"), encoding: .utf8)
        }
        return shipped + MustacheSpec.cases.prefix(60).map(\.template)
    }()

    static func mutate(_ text: String, _ codes: [Int]) -> String {
        var characters = Array(text)
        for code in codes {
            let at = characters.isEmpty ? 0 : (code / 8) % characters.count
            switch code % 4 {
            case 0: if !characters.isEmpty { characters.remove(at: at) }
            case 1: characters = Array(characters.prefix(at))
            default: characters.insert(contentsOf: Array(splices[(code / 16) % splices.count]), at: at)
            }
        }
        return String(characters)
    }

    static let count = Int(ProcessInfo.processInfo.environment["HERALD_FUZZ_COUNT"] ?? "") ?? 200

    @Test func mutatedTemplatesCompileAndRenderOrPointInsideTheText() async throws {
        let fixture = try RenderFixture()
        let event = fixture.event("cod-fulfillment", "delivered.json")
        await propertyCheck(
            count: Self.count, input: Gen.int(in: 0...10_000), Gen.int(in: 0...Int(Int32.max)).array(of: 1...6)
        ) { pick, codes in
            let text = Self.mutate(Self.texts[pick % Self.texts.count], codes)
            let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }.count
            do throws(MustacheSyntaxError) {
                let template = try TemplateStore.compile(text, name: "t", locale: pick % 2 == 0 ? "ar" : "fr")
                let renderer = MessageRenderer(
                    ruleSet: fixture.ruleSet, templates: TemplateStore(templates: ["t": [template.locale: template]]))
                _ = renderer.render(fixture.rule("t", locale: template.locale), event: event)
                let nodes = try MustacheParser.parse(text)
                _ = MustacheDataRenderer(partials: ["p": text]).render(nodes, data: .object([("a", .string("x"))]))
            } catch {
                #expect((1...lines).contains(error.position.line) && error.position.column >= 1, "\(error)")
            }
        }
    }
}
