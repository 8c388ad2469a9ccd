import Foundation
import HeraldCore
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Logging
import Testing

@Suite("herald messages and herald retry, as processes")
struct MessagesCommandTests {
    /// Stores one sample envelope as intake does.
    func record(_ provider: String, _ file: String, in store: SQLiteStore, ruleSet: RuleSet) async throws {
        let input = try Fixtures.envelope(provider, file)
        let profile = try #require(ruleSet.provider(named: provider))
        let request = WebhookRequest(
            provider: provider, headers: input.headers, body: input.body, receivedAt: input.receivedAt!)
        _ = try await store.record(IncomingEvent(request: request, profile: profile))
    }

    /// A store with one held message: the delivered SMS of the cod sample, with Twilio unset.
    func storeWithHeldMessage() async throws -> String {
        let path = Fixtures.temporaryDatabasePath()
        let store = try SQLiteStore(path: path)
        let ruleSet = try Fixtures.shippedRuleSet()
        try await record("cod-fulfillment", "05-delivered.json", in: store, ruleSet: ruleSet)
        let templates = try TemplateStore.load(path: Fixtures.root.appendingPathComponent("templates").path)
        let processor = EventProcessor(
            ruleSet: ruleSet, templates: templates, store: store, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        try await processor.processPending()
        try await store.close()
        return path
    }

    @Test func messagesListsTheOutboxWithNumbersMasked() async throws {
        let db = try await storeWithHeldMessage()
        let (status, stdout, _) = try await HeraldProcess.run(["messages", "--db", db])
        #expect(status == 0)
        let lines = stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[1].contains("ORD-000130") && lines[1].contains("delivered") && lines[1].contains("sms") && lines[1].contains("held"))
        #expect(lines[1].contains("channel 'sms' credentials not set: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM"))
        #expect(lines[0].contains("SMS") && lines[1].contains("GSM-7×1"))  // what dry-run says of this message
        #expect(!stdout.contains("+212661234567"))
        #expect(stdout.contains("+212••••••567"))
        let (_, revealed, _) = try await HeraldProcess.run(["messages", "--db", db, "--reveal", "--text"])
        #expect(revealed.contains("+212661234567"))
        #expect(revealed.contains("│ Bonjour Salma, votre commande ORD-000130 a bien été livrée."))
    }

    /// Times are shown in the rules' `defaults.timezone` with its offset; `--utc` shows them in UTC.
    @Test func timesAreInTheRulesTimeZoneUnlessUTC() async throws {
        let db = try await storeWithHeldMessage()
        let rules = Fixtures.root.appendingPathComponent("rules.yaml").path
        let localTime = try Regex(#"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d "#)
        let (status, local, _) = try await HeraldProcess.run(["messages", "--db", db, "--rules", rules])
        #expect(status == 0)
        #expect(local.contains("CREATED (Africa/Casablanca)"))
        #expect(local.contains(localTime))
        let (_, universal, _) = try await HeraldProcess.run(["messages", "--db", db, "--rules", rules, "--utc"])
        #expect(universal.contains("CREATED (UTC)"))
        #expect(!universal.contains(localTime))
        #expect(universal.contains(try Regex(#"T\d\d:\d\d:\d\d\.\d{3}Z "#)))
        let (_, events, _) = try await HeraldProcess.run(["events", "--db", db, "--rules", rules])
        #expect(events.contains("RECEIVED (Africa/Casablanca)"))
        #expect(events.contains(localTime))
    }

    /// Elebne's stock alert with `${MERCHANT_PHONE}` unset: listed held, addressed to the variable.
    @Test func aMessageForAnUnsetRecipientIsListedHeldWithItsVariable() async throws {
        let path = Fixtures.temporaryDatabasePath()
        let store = try SQLiteStore(path: path)
        let ruleSet = try Fixtures.shippedRuleSet()
        try await record("elebne", "05-stock-out.json", in: store, ruleSet: ruleSet)
        let templates = try TemplateStore.load(path: Fixtures.root.appendingPathComponent("templates").path)
        let processor = EventProcessor(
            ruleSet: ruleSet, templates: templates, store: store,
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        try await processor.processPending()
        try await store.close()
        let (status, stdout, _) = try await HeraldProcess.run(["messages", "--db", path])
        #expect(status == 0)
        let line = try #require(stdout.split(separator: "\n").first { $0.contains("stock-alert") })
        #expect(line.contains("${MERCHANT_PHONE}") && line.contains("held"))
        #expect(line.hasSuffix("recipient ${MERCHANT_PHONE} not set"))
    }

    /// Held messages of two events of order ORD-000130 (out for delivery on WhatsApp and SMS,
    /// delivered on SMS), with every channel's credentials unset.
    func storeWithHeldMessages() async throws -> String {
        let path = Fixtures.temporaryDatabasePath()
        let store = try SQLiteStore(path: path)
        let ruleSet = try Fixtures.shippedRuleSet()
        for file in ["03-out_for_delivery.json", "05-delivered.json"] {
            try await record("cod-fulfillment", file, in: store, ruleSet: ruleSet)
        }
        let templates = try TemplateStore.load(path: Fixtures.root.appendingPathComponent("templates").path)
        let processor = EventProcessor(
            ruleSet: ruleSet, templates: templates, store: store,
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        try await processor.processPending()
        try await store.close()
        return path
    }

    @Test func retryReleasesInBulkByStateChannelAndOrder() async throws {
        let db = try await storeWithHeldMessages()
        let store = try SQLiteStore(path: db)
        let held = try await store.messages(MessageQuery(state: .held))
        try await store.close()
        let whatsapp = held.filter { $0.channel == "whatsapp" }.map(\.id).sorted()
        let sms = held.filter { $0.channel == "sms" }.map(\.id).sorted()
        #expect(!whatsapp.isEmpty && !sms.isEmpty)

        let (none, noneOut, _) = try await HeraldProcess.run(
            ["retry", "--db", db, "--state", "held", "--order", "ORD-404"])
        #expect(none == 0)
        #expect(noneOut.contains("released 0 held messages"))
        let (status, stdout, _) = try await HeraldProcess.run(
            ["retry", "--db", db, "--state", "held", "--channel", "whatsapp", "--order", "ORD-000130"])
        #expect(status == 0)
        #expect(stdout.contains(": " + whatsapp.map(String.init).joined(separator: " ")))
        let (_, rest, _) = try await HeraldProcess.run(["retry", "--db", db, "--state", "held"])
        #expect(rest.contains("released \(sms.count) held message"))
        #expect(rest.contains(": " + sms.map(String.init).joined(separator: " ")))
        let (_, pending, _) = try await HeraldProcess.run(["messages", "--db", db, "--state", "pending"])
        #expect(pending.split(separator: "\n").count == held.count + 1)

        let (badState, _, badStateErr) = try await HeraldProcess.run(["retry", "--db", db, "--state", "sent"])
        #expect(badState != 0)
        #expect(badStateErr.contains("--state must be held or failed"))
        let (noState, _, noStateErr) = try await HeraldProcess.run(["retry", "--db", db, "--channel", "sms"])
        #expect(noState != 0)
        #expect(noStateErr.contains("add --state held|failed"))
    }

    @Test func retryRendersAgainAMessageThatFailedBeforeItHadAText() async throws {
        // Planned with a templates folder that has none of the rules' templates: failed, no text.
        let path = Fixtures.temporaryDatabasePath()
        let store = try SQLiteStore(path: path)
        let ruleSet = try Fixtures.shippedRuleSet()
        try await record("cod-fulfillment", "05-delivered.json", in: store, ruleSet: ruleSet)
        let wrong = FileManager.default.temporaryDirectory.appendingPathComponent("herald-wrong-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: wrong.appendingPathComponent("unrelated"), withIntermediateDirectories: true)
        try "x".write(to: wrong.appendingPathComponent("unrelated/fr.mustache"), atomically: true, encoding: .utf8)
        let processor = EventProcessor(
            ruleSet: ruleSet, templates: try TemplateStore.load(path: wrong.path), store: store,
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        try await processor.processPending()
        let failed = try #require(try await store.messages(MessageQuery(state: .failed)).first)
        #expect(failed.text.isEmpty)
        try await store.close()
        let rules = Fixtures.root.appendingPathComponent("rules.yaml").path

        // Still the wrong folder: planned again, still failing, not released.
        let (stillWrong, _, wrongErr) = try await HeraldProcess.run(
            ["retry", "--db", path, "--rules", rules, "--templates", wrong.path, "\(failed.id)"])
        #expect(stillWrong == 1)
        #expect(wrongErr.contains("message \(failed.id): not released: template 'delivered'"))

        let templates = Fixtures.root.appendingPathComponent("templates").path
        let (status, stdout, _) = try await HeraldProcess.run(
            ["retry", "--db", path, "--rules", rules, "--templates", templates, "--state", "failed"])
        #expect(status == 0)
        #expect(stdout.contains("released 1 failed message: \(failed.id)"))
        let reopened = try SQLiteStore(path: path)
        let released = try #require(try await reopened.messages(MessageQuery()).first)
        try await reopened.close()
        #expect(released.state == .pending)
        #expect(released.text.hasPrefix("Bonjour Salma, votre commande ORD-000130 a bien été livrée."))
        #expect(released.encoding == "GSM-7")
    }

    @Test func retryReleasesHeldMessagesOnce() async throws {
        let db = try await storeWithHeldMessage()
        let (_, listing, _) = try await HeraldProcess.run(["messages", "--db", db, "--state", "held"])
        let id = try #require(listing.split(separator: "\n").dropFirst().first?.split(separator: " ").first.map(String.init))
        let (status, stdout, _) = try await HeraldProcess.run(["retry", "--db", db, id])
        #expect(status == 0)
        #expect(stdout.contains("released 1 message: \(id)"))
        let (_, pending, _) = try await HeraldProcess.run(["messages", "--db", db, "--state", "pending"])
        #expect(pending.contains("ORD-000130"))
        // Releasing again, or an unknown id: nothing to release, exit 1.
        let (again, _, stderr) = try await HeraldProcess.run(["retry", "--db", db, id, "999"])
        #expect(again == 1)
        #expect(stderr.contains("not released (unknown, already sent or still queued): \(id) 999"))
    }

    /// A message whose send had no answer may have gone out: only `--force` releases it.
    @Test func retryReleasesAnUnknownMessageOnlyWithForce() async throws {
        let db = try await storeWithHeldMessage()
        let store = try SQLiteStore(path: db)
        let message = try #require(try await store.messages(MessageQuery()).first)
        try await store.record(
            DeliveryUpdate(state: .unknown, lastError: "unknown outcome: no answer: timedOut"), messageID: message.id,
            at: Date())
        try await store.close()
        let (_, listing, _) = try await HeraldProcess.run(["messages", "--db", db, "--state", "unknown"])
        #expect(listing.contains("ORD-000130") && listing.contains("unknown outcome: no answer: timedOut"))
        let (refused, _, _) = try await HeraldProcess.run(["retry", "--db", db, "\(message.id)"])
        #expect(refused == 1)
        let (status, stdout, _) = try await HeraldProcess.run(["retry", "--db", db, "--force", "\(message.id)"])
        #expect(status == 0)
        #expect(stdout.contains("released 1 message: \(message.id)"))
    }

    @Test func dryRunAgainstTheLiveStoreKnowsItsOutbox() async throws {
        let db = try await storeWithHeldMessage()
        let (status, stdout, _) = try await HeraldProcess.run([
            "dry-run", "--rules", Fixtures.root.appendingPathComponent("rules.yaml").path,
            "--templates", Fixtures.root.appendingPathComponent("templates").path, "--db", db, "--format", "json",
            Fixtures.root.appendingPathComponent("samples/cod-fulfillment/sequence/05-delivered.json").path,
        ], environment: Fixtures.environment.values)
        #expect(status == 0)
        let line = try JSONParser.parse(Array(stdout.utf8.prefix { $0 != UInt8(ascii: "\n") }))
        #expect(line["messages"]?.arrayValue?.first?["duplicate_of"] == .string("outbox message 1"))
        #expect(line["messages"]?.arrayValue?.first?["encoding"] == .string("GSM-7"))
        #expect(line["messages"]?.arrayValue?.first?["segments"] == .number("1"))
        #expect(line["event"]?["order"]?["previous_status"] == .string("out_for_delivery"))
    }
}
