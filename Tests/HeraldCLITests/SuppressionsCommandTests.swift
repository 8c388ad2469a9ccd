import Foundation
import HeraldCore
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Logging
import Testing

@Suite("herald suppressions, and suppressed numbers in messages and dry-run, as processes")
struct SuppressionsCommandTests {
    let rules = Fixtures.root.appendingPathComponent("rules.yaml").path
    let templates = Fixtures.root.appendingPathComponent("templates").path

    func emptyStore() async throws -> String {
        let path = Fixtures.temporaryDatabasePath()
        try await SQLiteStore(path: path).close()
        return path
    }

    func suppressions(_ arguments: [String], db: String) async throws -> (Int32?, String, String) {
        try await HeraldProcess.run(["suppressions", "--rules", rules, "--db", db] + arguments)
    }

    @Test func addListAndRemoveANumberReadInTheRulesCountry() async throws {
        let db = try await emptyStore()
        // 0661234567 is a Moroccan mobile: the rules' defaults.country is MA.
        var (status, stdout, stderr) = try await suppressions(
            ["add", "0661234567", "--reason", "asked by phone"], db: db)
        #expect(status == 0, "\(stderr)")
        #expect(stdout == "suppressed +212••••••567 on all channels\n")
        (status, stdout, _) = try await suppressions(["add", "+961 3 123 456", "--channel", "whatsapp"], db: db)
        #expect(status == 0)
        #expect(stdout == "suppressed +961••••456 on whatsapp\n")
        (status, stdout, _) = try await suppressions(["add", "+212 661-234-567"], db: db)
        #expect(status == 0)
        #expect(stdout.hasPrefix("suppressed +212••••••567"))  // an operator's entry replaces one of the same scope

        (status, stdout, _) = try await suppressions([], db: db)  // list is the default
        #expect(status == 0)
        let lines = stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("NUMBER") && lines[0].contains("CHANNEL") && lines[0].hasSuffix("REASON"))
        let whatsapp = try #require(lines.first { $0.contains("+961••••456") })
        #expect(
            whatsapp.contains("whatsapp") && whatsapp.contains("operator")
                && whatsapp.hasSuffix("added by the operator"))
        let salma = try #require(lines.first { $0.contains("+212••••••567") })
        #expect(salma.contains(" all ") && salma.contains("operator"))
        #expect(!stdout.contains("+212661234567") && !stdout.contains("+9613123456"))

        (status, stdout, _) = try await suppressions(["list", "--reveal"], db: db)
        #expect(stdout.contains("+212661234567") && stdout.contains("+9613123456"))
        // Without a rules file, a national number has no country.
        (status, _, stderr) = try await HeraldProcess.run(
            ["suppressions", "--rules", "/nonexistent/rules.yaml", "--db", db, "list", "03 123 456"])
        #expect(status == 2)
        #expect(stderr.contains("cannot tell the country of the phone number"))
        (_, stdout, _) = try await suppressions(["list", "+9613123456"], db: db)
        #expect(stdout.split(separator: "\n").count == 2)

        (status, stdout, _) = try await suppressions(["remove", "0661234567"], db: db)
        #expect(status == 0)
        #expect(stdout.hasPrefix("removed +212••••••567 on all channels (operator: "))
        (status, _, stderr) = try await suppressions(["remove", "0661234567"], db: db)
        #expect(status == 1)
        #expect(stderr.contains("error: +212••••••567 is not on the suppression list"))
        (status, _, stderr) = try await suppressions(["remove", "+9613123456", "--channel", "sms"], db: db)
        #expect(status == 1)
        #expect(stderr.contains("is not on the suppression list for sms"))
        (status, _, _) = try await suppressions(["remove", "+9613123456", "--channel", "whatsapp"], db: db)
        #expect(status == 0)
        (_, stdout, _) = try await suppressions(["list"], db: db)
        #expect(stdout == "no suppressions\n")
    }

    @Test(arguments: [
        (["add"], "error: herald suppressions add needs a NUMBER"),
        (["add", "06 61 AB 45 67"], "error: '06 61 AB 45 67': the phone number has letters in it"),
        (["add", "0522123456"], "error: '0522123456': fixed line, cannot receive SMS"),
        (["add", "+212661234567", "--channel", "smss"], "error: --channel 'smss' is not a channel of"),
        (["list", "--channel", "sms"], "error: --channel is for add and remove"),
    ])
    func badArgumentsExit2WithTheReason(arguments: [String], message: String) async throws {
        let db = try await emptyStore()
        let (status, stdout, stderr) = try await suppressions(arguments, db: db)
        #expect(status == 2)
        #expect(stderr.contains(message), "\(stderr)")
        #expect(stdout.isEmpty)
    }

    @Test func withoutAStoreItSaysSoAndExits1() async throws {
        let db = Fixtures.temporaryDatabasePath()
        let (status, _, stderr) = try await suppressions(["add", "+212661234567"], db: db)
        #expect(status == 1)
        #expect(stderr.contains("no store here"))
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    /// The processor plans the delivered SMS of a suppressed number as `suppressed`, and
    /// `herald messages --state suppressed` lists it with the reason.
    @Test func messagesListsSuppressedMessagesWithTheReason() async throws {
        let db = try await emptyStore()
        _ = try await suppressions(["add", "+212661234567", "--reason", "asked by phone"], db: db)
        let store = try SQLiteStore(path: db)
        let ruleSet = try Fixtures.shippedRuleSet()
        let input = try Fixtures.envelope("cod-fulfillment", "05-delivered.json")
        let profile = try #require(ruleSet.provider(named: "cod-fulfillment"))
        let request = WebhookRequest(
            provider: "cod-fulfillment", headers: input.headers, body: input.body, receivedAt: input.receivedAt!)
        _ = try await store.record(
            IncomingEvent(request: request, profile: profile))
        let processor = EventProcessor(
            ruleSet: ruleSet, templates: try TemplateStore.load(path: templates), store: store,
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        try await processor.processPending()
        try await store.close()

        let (status, stdout, _) = try await HeraldProcess.run(["messages", "--db", db, "--state", "suppressed"])
        #expect(status == 0)
        let lines = stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[1].contains("ORD-000130") && lines[1].contains("suppressed"))
        #expect(lines[1].hasSuffix("suppressed (operator): asked by phone"))
        #expect(!stdout.contains("+212661234567"))
        let (_, pending, _) = try await HeraldProcess.run(["messages", "--db", db, "--state", "pending"])
        #expect(pending == "no messages\n")
    }

    /// Dry-run against the live store: a message to a suppressed number is shown with the reason
    /// and not counted as sent.
    @Test func dryRunShowsSuppressedRecipients() async throws {
        // Channel credentials (any value: dry-run sends nothing), so the message is not held.
        let credentials = Fixtures.environment.values.merging(DryRunCommandTests.channelCredentials) { $1 }
        let db = try await emptyStore()
        _ = try await suppressions(["add", "+212661234567", "--reason", "asked by phone"], db: db)
        let sample = Fixtures.root.appendingPathComponent("samples/cod-fulfillment/sequence/05-delivered.json").path
        let arguments = ["dry-run", "--rules", rules, "--templates", templates, "--db", db]
        var (status, stdout, _) = try await HeraldProcess.run(
            arguments + ["--format", "json", sample], environment: credentials)
        #expect(status == 0)
        let line = try JSONParser.parse(Array(stdout.utf8.prefix { $0 != UInt8(ascii: "\n") }))
        let message = try #require(line["messages"]?.arrayValue?.first)
        #expect(message["to"] == .string("+212661234567"))
        #expect(message["suppressed"] == .string("asked by phone (operator)"))

        (status, stdout, _) = try await HeraldProcess.run(
            arguments + [sample], environment: credentials)
        #expect(status == 0)
        #expect(stdout.contains("           suppressed: asked by phone (operator) (not sent)"))
        #expect(stdout.contains("0 messages would be sent, 0 SMS segments"))
        #expect(stdout.contains("not sent: 0 duplicate, 1 suppressed, 0 deferred (quiet hours), 0 held, 0 failed"))

        // Without the store's list, the same input is a message that would be sent.
        (_, stdout, _) = try await HeraldProcess.run(
            ["dry-run", "--rules", rules, "--templates", templates, sample], environment: credentials)
        #expect(!stdout.contains("suppressed:"))
        #expect(stdout.contains("1 message would be sent (sms/fr 1)"))
    }
}
