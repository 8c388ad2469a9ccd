import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// `herald replies`: what customers wrote back, the action a keyword took, numbers masked.
@Suite("herald replies")
struct RepliesCommandTests {
    func reply(_ id: String, _ body: String, from number: String, at seconds: TimeInterval) -> IncomingReceipt {
        let reply = Reply(providerMessageID: id, from: number, body: body)
        return IncomingReceipt(
            channel: "sms",
            receipt: Receipt(
                dedupeKey: id, content: .reply(reply), occurredAt: Date(timeIntervalSince1970: seconds)),
            replyAction: ReplyAction(reply: reply, channel: "sms", keywords: ReplyKeywords()))
    }

    @Test func listsRepliesNewestFirstWithTheirActionAndFiltersByNumber() async throws {
        let db = Fixtures.temporaryDatabasePath()
        let store = try SQLiteStore(path: db)
        _ = try await store.recordReceipts(
            [
                reply("SM1", "Stop", from: "+212661234567", at: 1_778_414_400),
                reply("SM2", "Où est ma commande ?", from: "+212661234567", at: 1_778_414_460),
                reply("SM3", "merci", from: "+212699999999", at: 1_778_414_520),
            ], at: Date())
        try await store.close()

        let (status, stdout, _) = try await HeraldProcess.run(["replies", "--db", db, "--utc"])
        #expect(status == 0)
        let lines = stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("SENT (UTC)"))
        #expect(lines[1].hasPrefix("2026-05-10T12:02:00.000Z  sms"))
        #expect(lines[1].hasSuffix("-        merci"))
        #expect(lines[3].hasSuffix("opt-out  Stop"))
        #expect(!stdout.contains("+212661234567"))

        let (_, one, _) = try await HeraldProcess.run([
            "replies", "--db", db, "--utc", "--number", "+212661234567", "--reveal",
        ])
        #expect(one.split(separator: "\n").count == 3)
        #expect(one.contains("+212661234567"))
        #expect(!one.contains("merci"))

        let (bad, _, stderr) = try await HeraldProcess.run(["replies", "--db", db, "--number", "12"])
        #expect(bad == 2)
        #expect(stderr.contains("error: '12'"))
    }
}
