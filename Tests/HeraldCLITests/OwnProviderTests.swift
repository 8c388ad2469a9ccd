import Foundation
import HeraldTestSupport
import Testing

/// The README's "Your own provider": its blocks are the files in docs/examples/souk-express/,
/// and copying them gives the documented message; `herald check` catches the mistakes the
/// section warns about, at their line and column.
@Suite("A provider declared without a preset (README, Your own provider)")
struct OwnProviderTests {
    let example = Fixtures.root.appendingPathComponent("docs/examples/souk-express")
    var rules: String { example.appendingPathComponent("rules.yaml").path }
    var templates: String { example.appendingPathComponent("templates").path }
    var samples: String { example.appendingPathComponent("samples").path }
    let environment = DryRunCommandTests.channelCredentials.merging(
        ["SOUK_WEBHOOK_SECRET": "herald-test-secret"]) { $1 }
    static let frenchText =
        "Bonjour Nadia, votre commande SX-1042 est en route. Suivez-la ici : https://souk.example/t/SX-1042"

    func readme() throws -> String {
        try String(contentsOf: Fixtures.root.appendingPathComponent("README.md"), encoding: .utf8)
    }

    func text(_ relative: String) throws -> String {
        try String(contentsOf: example.appendingPathComponent(relative), encoding: .utf8)
    }

    @Test(arguments: [
        "rules.yaml", "templates/souk_shipped/ar.mustache", "templates/souk_shipped/fr.mustache",
        "templates/souk_shipped/en.mustache",
    ])
    func readmeQuotesTheExampleVerbatim(file: String) throws {
        let quoted = try text(file)
        #expect(try readme().contains(quoted), "README.md does not quote docs/examples/souk-express/\(file) as it is")
    }

    @Test func exampleChecksCleanAgainstItsSample() async throws {
        let (status, stdout, stderr) = try await HeraldProcess.run(
            ["check", "--rules", rules, "--templates", templates, "--samples", samples], environment: environment)
        #expect(status == 0, "\(stdout)\(stderr)")
        #expect(stderr.contains("1 rules, 1 providers, 0 errors, 0 warnings"), "\(stdout)\(stderr)")
    }

    @Test func sampleDryRunsToTheDocumentedMessage() async throws {
        let sample = example.appendingPathComponent("samples/souk-express/order-shipped.json").path
        let (status, stdout, stderr) = try await HeraldProcess.run(
            ["dry-run", "--rules", rules, "--templates", templates, sample], environment: environment)
        #expect(status == 0, "\(stdout)\(stderr)")
        #expect(stdout.contains("│ \(Self.frenchText)"), "\(stdout)")
        #expect(stdout.contains("packed → shipped"), "\(stdout)")
        #expect(stdout.contains("1 input: 1 verified, 0 failed verification, 0 with errors"), "\(stdout)")
        #expect(try readme().contains("│ \(Self.frenchText)"))
        // With another secret the signature does not match: no message, as the worker would answer 401.
        var wrong = environment
        wrong["SOUK_WEBHOOK_SECRET"] = "not-the-secret"
        let (_, refused, _) = try await HeraldProcess.run(
            ["dry-run", "--rules", rules, "--templates", templates, sample], environment: wrong)
        #expect(!refused.contains(Self.frenchText))
    }

    /// The shipped rules against the shipped samples: every path a preset maps is in them.
    @Test func shippedSamplesHoldEveryShippedPath() async throws {
        let root = Fixtures.root
        let (status, stdout, stderr) = try await HeraldProcess.run([
            "check", "--allow-missing-env", "--rules", root.appendingPathComponent("rules.yaml").path,
            "--templates", root.appendingPathComponent("templates").path,
            "--samples", root.appendingPathComponent("samples").path,
        ])
        #expect(status == 0, "\(stdout)\(stderr)")
        #expect(!stdout.contains("is absent from"), "\(stdout)")
    }

    /// A temporary copy of the example with `edit` applied to its rules.yaml.
    func editedCopy(_ edit: (String) -> String) throws -> (folder: URL, rules: String, text: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-own-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: example, to: folder)
        let text = edit(try text("rules.yaml"))
        let path = folder.appendingPathComponent("rules.yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return (folder, path, text)
    }

    /// Line and column (1-based) of the first occurrence of `needle` in `text`.
    func position(of needle: String, in text: String) -> (Int, Int) {
        for (index, line) in text.components(separatedBy: "\n").enumerated() {
            if let range = line.range(of: needle) {
                return (index + 1, line.distance(from: line.startIndex, to: range.lowerBound) + 1)
            }
        }
        return (0, 0)
    }

    @Test func providerMappingNeitherReferenceNorStatusIsAnError() async throws {
        let copy = try editedCopy { text in
            text.components(separatedBy: "\n").filter {
                !$0.contains("order.reference: order.no") && !$0.contains("order.status: order.state")
            }.joined(separator: "\n")
        }
        let (status, stdout, stderr) = try await HeraldProcess.run(
            ["check", "--rules", copy.rules, "--templates", templates], environment: environment)
        #expect(status == 1)
        let (line, column) = position(of: "souk-express:", in: copy.text)
        let message =
            "error: provider 'souk-express' maps neither order.reference nor order.status: add fields: "
            + "{ order.reference: <path in the body>, order.status: <path in the body> }"
        #expect(stdout.contains("\(copy.rules):\(line):\(column): \(message)"), "\(stdout)\(stderr)")
    }

    @Test func pathAbsentFromEverySampleIsAWarningWithASuggestion() async throws {
        let copy = try editedCopy {
            $0.replacingOccurrences(of: "order.status: order.state", with: "order.status: order.status")
                .replacingOccurrences(of: "customer.locale: buyer.lang", with: "customer.locale: byer.lang")
        }
        // Three samples: the signed envelope and two bare bodies taken from it.
        let folder = copy.folder.appendingPathComponent("samples/souk-express")
        let envelope = try Data(contentsOf: folder.appendingPathComponent("order-shipped.json"))
        let object = try JSONSerialization.jsonObject(with: envelope) as? [String: Any]
        let body = try #require(object?["body"] as? String)
        try body.write(to: folder.appendingPathComponent("bare-1.json"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("more"), withIntermediateDirectories: true)
        try body.write(to: folder.appendingPathComponent("more/bare-2.json"), atomically: true, encoding: .utf8)

        let arguments = [
            "check", "--rules", copy.rules, "--templates", templates, "--samples",
            copy.folder.appendingPathComponent("samples").path,
        ]
        let (status, stdout, stderr) = try await HeraldProcess.run(arguments, environment: environment)
        #expect(status == 0, "warnings alone pass: \(stdout)\(stderr)")
        let (statusLine, statusColumn) = position(of: "order.status", in: copy.text)
        let (localeLine, localeColumn) = position(of: "byer.lang", in: copy.text)
        let warnings = stdout.split(separator: "\n").filter { $0.contains(": warning: ") }.map(String.init)
        #expect(
            warnings == [
                "\(copy.rules):\(statusLine):\(statusColumn + "order.status: ".count): warning: fields.order.status: "
                    + "'order.status' is absent from all 3 samples of 'souk-express'; did you mean 'order.state'?",
                "\(copy.rules):\(localeLine):\(localeColumn): warning: fields.customer.locale: "
                    + "'byer.lang' is absent from all 3 samples of 'souk-express'; did you mean 'buyer.lang'?",
            ], "\(stdout)\(stderr)")
        #expect(stderr.contains("0 errors, 2 warnings"))
        let (strict, _, _) = try await HeraldProcess.run(arguments + ["--strict"], environment: environment)
        #expect(strict == 1)
    }
}
