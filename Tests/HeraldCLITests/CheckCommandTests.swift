import Foundation
import HeraldTestSupport
import Testing

@Suite("herald check, as a process")
struct CheckCommandTests {
    let templates = Fixtures.root.appendingPathComponent("templates").path

    @Test func shippedRulesPass() async throws {
        let rules = Fixtures.root.appendingPathComponent("rules.yaml").path
        let (status, stdout, stderr) = try await HeraldProcess.run(
            ["check", "--rules", rules, "--templates", templates, "--allow-missing-env"])
        #expect(status == 0, "\(stdout)\(stderr)")
        #expect(!stdout.contains("error:"))
        #expect(stderr.contains("0 errors"))
        // Without --allow-missing-env the unset secrets are errors.
        let (strictStatus, strictOut, _) = try await HeraldProcess.run(["check", "--rules", rules, "--templates", templates])
        #expect(strictStatus == 1)
        #expect(strictOut.contains("error: environment variable COD_WEBHOOK_SECRET is not set"))
    }

    /// Line and column (1-based) of the first occurrence of `needle` in `text`.
    func position(of needle: String, in text: String) -> (Int, Int) {
        let lines = text.components(separatedBy: "\n")
        for (index, line) in lines.enumerated() {
            if let range = line.range(of: needle) {
                return (index + 1, line.distance(from: line.startIndex, to: range.lowerBound) + 1)
            }
        }
        return (0, 0)
    }

    @Test func misspeltChannelKeyIsAnErrorAtItsLineAndColumn() async throws {
        var text = try String(contentsOf: Fixtures.root.appendingPathComponent("rules.yaml"), encoding: .utf8)
        text = text.replacingOccurrences(
            of: "account_sid: \"${TWILIO_ACCOUNT_SID}\"", with: "acount_sid: \"${TWILIO_ACCOUNT_SID}\"")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let rules = folder.appendingPathComponent("rules.yaml").path
        try text.write(toFile: rules, atomically: true, encoding: .utf8)

        let (status, _, stderr) = try await HeraldProcess.run(
            ["check", "--rules", rules, "--templates", templates, "--allow-missing-env"])
        #expect(status == 1)
        let (line, column) = position(of: "acount_sid", in: text)
        let (channelLine, channelColumn) = position(of: "sms: { type: twilio", in: text)
        let unknown = "error: unknown key 'acount_sid' in channel 'sms' (did you mean 'account_sid'?)"
        #expect(stderr.contains("\(rules):\(line):\(column): \(unknown)"))
        let needs = "error: channel 'sms' (twilio) needs 'account_sid'"
        #expect(stderr.contains("\(rules):\(channelLine):\(channelColumn): \(needs)"))
        // serve reads the rules the same way: it refuses to start, with the same lines.
        let (serveStatus, _, serveErr) = try await HeraldProcess.run(
            [
                "serve", "--rules", rules, "--templates", templates, "--db",
                folder.appendingPathComponent("h.sqlite").path, "--port", "0",
            ])
        #expect(serveStatus == 1)
        #expect(serveErr.contains("\(rules):\(line):\(column): error: unknown key 'acount_sid' in channel 'sms'"))
    }

    @Test func brokenCopyPointsAtTheMistakes() async throws {
        var text = try String(contentsOf: Fixtures.root.appendingPathComponent("rules.yaml"), encoding: .utf8)
        text = text.replacingOccurrences(of: "template: delivered }", with: "template: delivred }")
        text = text.replacingOccurrences(of: "to: [delivered, DELIVERED, Completed]", with: "to: [delivered, DELIVERED, Compleded]")
        text = text.replacingOccurrences(of: "from: prepared, to: out_for_delivery", with: "from: delivered, to: out_for_delivery")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let rules = folder.appendingPathComponent("rules.yaml").path
        try text.write(toFile: rules, atomically: true, encoding: .utf8)

        let (status, stdout, _) = try await HeraldProcess.run(
            ["check", "--rules", rules, "--templates", templates, "--allow-missing-env"])
        #expect(status == 1)
        let (templateLine, templateColumn) = position(of: "delivred", in: text)
        let (statusLine, statusColumn) = position(of: "Compleded]", in: text)
        let (transitionLine, transitionColumn) = position(of: "{ from: delivered", in: text)
        let errors = stdout.split(separator: "\n").filter { $0.contains(": error: ") }
        #expect(errors == [
            "\(rules):\(transitionLine):\(transitionColumn): error: rule 'out-for-delivery' can never fire: cod-fulfillment never goes from delivered to out_for_delivery",
            "\(rules):\(statusLine):\(statusColumn): error: rule 'delivered': status 'Compleded' is never sent by any provider; did you mean 'Completed'?",
            "\(rules):\(templateLine):\(templateColumn): error: rule 'delivered': template 'delivred' does not exist (no folder \(templates)/delivred)",
        ])
    }

    /// The two cases as a user meets them: a regional `locale: ar-MA` is accepted (it
    /// renders with ar.mustache) and `{{order.refrence}}` is an error at its line and column.
    @Test func regionalLocaleAcceptedAndTemplateTypoRejected() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-check-\(UUID().uuidString)")
        let copy = folder.appendingPathComponent("templates")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: templates, toPath: copy.path)
        var rules = try String(contentsOf: Fixtures.root.appendingPathComponent("rules.yaml"), encoding: .utf8)
        rules = rules.replacingOccurrences(of: "template: delivered }", with: "template: delivered, locale: ar-MA }")
        #expect(rules.contains("ar-MA"))
        let rulesPath = folder.appendingPathComponent("rules.yaml").path
        try rules.write(toFile: rulesPath, atomically: true, encoding: .utf8)

        var (status, stdout, stderr) = try await HeraldProcess.run(
            ["check", "--rules", rulesPath, "--templates", copy.path, "--allow-missing-env"])
        #expect(status == 0, "\(stdout)\(stderr)")
        #expect(!stdout.contains("ar-MA"))

        let file = copy.appendingPathComponent("delivered/fr.mustache")
        var text = try String(contentsOf: file, encoding: .utf8)
        text = text.replacingOccurrences(of: "{{order.reference}}", with: "{{order.refrence}}")
        try text.write(to: file, atomically: true, encoding: .utf8)
        (status, stdout, stderr) = try await HeraldProcess.run(
            ["check", "--rules", rulesPath, "--templates", copy.path, "--allow-missing-env"])
        #expect(status == 1)
        let (line, column) = position(of: "{{order.refrence}}", in: text)
        #expect(
            stdout.split(separator: "\n").filter { $0.contains(": error: ") } == [
                "\(file.path):\(line):\(column): error: unknown value 'order.refrence'; did you mean 'order.reference'?"
            ])
        #expect(stderr.contains("1 error"))
    }

    /// A Standard Webhooks secret that is not base64 would refuse every webhook: check says where.
    @Test func secretThatDoesNotDecodeIsReportedAtItsLine() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-check-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let rules = folder.appendingPathComponent("rules.yaml").path
        let yaml = Fixtures.standardWebhooksRules
        try yaml.write(toFile: rules, atomically: true, encoding: .utf8)
        let (status, stdout, _) = try await HeraldProcess.run(
            ["check", "--rules", rules, "--templates", templates], environment: ["SW_SECRET": "whsec_not*base64"])
        #expect(status == 1)
        let expected = "\(rules):4:50: error: provider 'sw': the secret in ${SW_SECRET} is not a base64 whsec_ key"
        #expect(stdout.contains(expected))
        #expect(!stdout.contains("not*base64"))
        // serve starts anyway (other providers keep working) and says it at start-up.
        let badSecret = ["SW_SECRET": "whsec_not*base64"]
        let serve = try HeraldProcess(
            ["serve", "--rules", rules, "--templates", templates, "--port", "0"], environment: badSecret)
        defer { serve.terminate() }
        #expect(await serve.waitForLog("herald is listening"))
        #expect(serve.stderr.contains("configuration problem"))
        #expect(serve.stderr.contains("herald.at=\(rules):4:50"))
        #expect(!serve.stderr.contains("not*base64"))
        serve.process.terminate()
        #expect(await serve.wait(seconds: 20) == 0)
        // Unpadded base64 is a valid key.
        let (fine, fineOut, _) = try await HeraldProcess.run(
            ["check", "--rules", rules, "--templates", templates], environment: ["SW_SECRET": "whsec_AAECAwQFBgcICQ"])
        #expect(fine == 0, "\(fineOut)")
    }

    @Test(arguments: [false, true])
    func missingOrEmptyTemplatesFolderStopsCheck(empty: Bool) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-check-\(UUID().uuidString)")
        if empty { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        let rules = Fixtures.root.appendingPathComponent("rules.yaml").path
        let (status, stdout, stderr) = try await HeraldProcess.run(
            ["check", "--rules", rules, "--templates", folder.path, "--allow-missing-env"])
        #expect(status == 1)
        let reason = empty ? "no templates in this folder" : "no templates folder here"
        #expect(stderr.contains("\(folder.path): error: \(reason)"))
        #expect(!stdout.contains("does not exist"))  // not one line per rule
    }
}
