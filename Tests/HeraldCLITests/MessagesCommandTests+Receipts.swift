import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// `herald messages` after receipts: the delivery state, when it happened, and `--state` on it.
extension MessagesCommandTests {
    @Test func messagesShowTheDeliveryStateAndItsTime() async throws {
        let db = try await storeWithHeldMessage()
        let store = try SQLiteStore(path: db)
        let held = try #require(try await store.messages(MessageQuery()).first)
        _ = try await store.release(ids: [held.id], at: Date())
        let claimed = try await store.claimDue(now: Date().addingTimeInterval(1), limit: 1, lease: 60)
        try await store.record(
            DeliveryUpdate(state: .sent, providerMessageID: "SM1"), messageID: try #require(claimed.first).message.id,
            at: Date())
        let report = StatusReport(
            providerMessageID: "SM1", providerStatus: "undelivered", state: .undelivered, errorCode: "30003")
        let receipt = Receipt(
            dedupeKey: "SM1 undelivered", content: .status(report),
            occurredAt: Date(timeIntervalSince1970: 1_778_414_405))
        _ = try await store.recordReceipts([IncomingReceipt(channel: "sms", receipt: receipt)], at: Date())
        try await store.close()

        let (status, stdout, _) = try await HeraldProcess.run([
            "messages", "--db", db, "--utc", "--state", "undelivered",
        ])
        #expect(status == 0)
        let lines = stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[1].contains("undelivered 2026-05-10T12:00:05.000Z (30003); SM1"))
        let (_, sent, _) = try await HeraldProcess.run(["messages", "--db", db, "--state", "sent"])
        #expect(sent == "no messages\n")
    }
}
