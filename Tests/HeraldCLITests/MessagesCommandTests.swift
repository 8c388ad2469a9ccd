import Foundation
import HeraldCore
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Logging
import Testing

@Suite("herald messages and herald retry, as processes")
struct MessagesCommandTests {
    /// A store with one held message: the delivered SMS of the cod sample, with Twilio unset.
    func storeWithHeldMessage() async throws -> String {
        let path = Fixtures.temporaryDatabasePath()
        let store = try SQLiteStore(path: path)
        let ruleSet = try Fixtures.shippedRuleSet()
        let input = try Fixtures.envelope("cod-fulfillment", "05-delivered.json")
        let profile = ruleSet.provider(named: "cod-fulfillment")!
        let request = WebhookRequest(provider: "cod-fulfillment", headers: input.headers, body: input.body, receivedAt: input.receivedAt!)
        _ = try await store.record(IncomingEvent(request: request, normalized: profile.normalize(request), profile: profile))
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

    /// Elebne's stock alert with `${MERCHANT_PHONE}` unset: listed held, addressed to the variable.
    @Test func aMessageForAnUnsetRecipientIsListedHeldWithItsVariable() async throws {
        let path = Fixtures.temporaryDatabasePath()
        let store = try SQLiteStore(path: path)
        let ruleSet = try Fixtures.shippedRuleSet()
        let input = try Fixtures.envelope("elebne", "05-stock-out.json")
        let profile = ruleSet.provider(named: "elebne")!
        let request = WebhookRequest(
            provider: "elebne", headers: input.headers, body: input.body, receivedAt: input.receivedAt!)
        let normalized = profile.normalize(request)
        _ = try await store.record(IncomingEvent(request: request, normalized: normalized, profile: profile))
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
