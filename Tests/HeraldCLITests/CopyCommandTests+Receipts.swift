import Foundation
import HeraldCore
import HeraldTestSupport
import Logging
import Testing

@testable import HeraldStore

/// `herald copy` brings the receipts along: a status applied to its message, a reply and a body
/// that did not parse, row for row, and their messages' delivery times.
extension CopyCommandTests {
    /// An SQLite store holding a message delivered by a receipt, and three receipts.
    func sourceWithReceipts() async throws -> String {
        let path = folder.appendingPathComponent("receipts.sqlite").path
        let store = try SQLiteStore(path: path)
        let eventID = try await Fixtures.recordedEventID(store, ruleSet: Fixtures.shippedRuleSet())
        let now = Date(timeIntervalSince1970: 1_778_414_400)
        let message = OutboxMessage(
            idempotencyKey: "k-1", eventID: eventID, provider: "cod-fulfillment", orderReference: "ORD-1",
            rule: "delivered", channel: "sms", recipient: "+212661234567", locale: "fr", text: "Bonjour",
            encoding: "GSM-7", segments: 1, state: .pending, nextAttemptAt: now, lastError: nil, createdAt: now)
        try await store.completeProcessing(eventID: eventID, messages: [message], at: now)
        let claimed = try #require(try await store.claimDue(now: now, limit: 1, lease: 60).first)
        try await store.record(
            DeliveryUpdate(state: .sent, providerMessageID: "SM1"), messageID: claimed.message.id, at: now)
        let status = Receipt(
            dedupeKey: "SM1 delivered",
            content: .status(
                StatusReport(providerMessageID: "SM1", providerStatus: "delivered", state: .delivered)))
        let reply = Receipt(
            dedupeKey: "SM9", content: .reply(Reply(providerMessageID: "SM9", from: "+212661234567", body: "توقف")),
            occurredAt: now + 7)
        _ = try await store.recordReceipts(
            [
                IncomingReceipt(channel: "sms", receipt: status), IncomingReceipt(channel: "sms", receipt: reply),
                IncomingReceipt(channel: "sms", unparsedBody: Array("A=%zz".utf8), parseError: "bad escape"),
            ], at: now + 5)
        try await store.close()
        return path
    }

    @Test func receiptsComeAlong() async throws {
        let source = try await sourceWithReceipts()
        let admin = try await PostgresTestDatabase.open(schema: "public")
        let database = "herald_copy_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await admin.client.query("CREATE DATABASE \(unescaped: database)", logger: admin.logger)
        let (status, stdout, stderr) = try await HeraldProcess.run(
            ["copy", "--from", source, "--to", try url(database: database)])
        #expect(status == 0, "\(stderr)")
        #expect(stdout.contains("1 message, 0 suppressions, 0 settings, 0 pruned keys, 3 receipts to postgres://"))

        var target = try PostgresTestDatabase.requiredURL()
        target.database = database
        target.sslMode = .disable
        var options = PostgresStore.Options()
        options.schema = "public"
        let copied = try await PostgresStore.connect(
            target, logger: Logger(label: "herald.test.copy"), options: options)
        let original = try SQLiteStore(path: source)
        #expect(try await copied.receipts(channel: nil, limit: 10).count == 3)
        let byID: (StoredReceipt, StoredReceipt) -> Bool = { $0.id < $1.id }
        #expect(
            try await copied.receipts(channel: nil, limit: 10).sorted(by: byID)
                == original.receipts(channel: nil, limit: 10).sorted(by: byID))
        let delivered = try #require(try await copied.messages(MessageQuery()).first)
        #expect(delivered.state == .delivered)
        #expect(delivered.progress == (try await original.messages(MessageQuery()).first?.progress))
        // Meta or Twilio retrying a copied receipt finds it: a duplicate.
        let again = Receipt(
            dedupeKey: "SM1 delivered",
            content: .status(
                StatusReport(providerMessageID: "SM1", providerStatus: "delivered", state: .delivered)))
        #expect(
            try await copied.recordReceipts([IncomingReceipt(channel: "sms", receipt: again)], at: Date())
                == [.duplicate])
        try await original.close()
        try await copied.close()
        _ = try? await admin.client.query("DROP DATABASE \(unescaped: database)", logger: admin.logger)
        try await admin.close()
    }
}
