import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

/// Receipts reaching two instances on one PostgreSQL database at once (a provider's retry may
/// land on either, and its statuses on both in any order).
@Suite("PostgreSQL: receipts on several instances")
struct PostgresReceiptsTests {
    typealias F = ContractFixtures

    func status(_ sid: String, _ status: String, _ state: DeliveryState) -> IncomingReceipt {
        let report = StatusReport(providerMessageID: sid, providerStatus: status, state: state)
        return IncomingReceipt(
            channel: "sms", receipt: Receipt(dedupeKey: sid + " " + status, content: .status(report)))
    }

    @Test func receiptsSpreadOverTwoInstancesAreKeptOnceAndNeverMoveAMessageBack() async throws {
        let schema = PostgresTestDatabase.freshSchema()
        let one = try await PostgresTestDatabase.open(schema: schema)
        let two = try await PostgresTestDatabase.open(schema: schema)
        let eventID = try await F.recordedEventID(one)
        let keys = (0..<20).map { "k\($0)" }
        try await one.completeProcessing(
            eventID: eventID, messages: keys.map { F.message($0, eventID: eventID) }, at: F.now)
        let claimed = try await one.claimDue(now: F.now, limit: 100, lease: 60)
        try await one.record(
            claimed.map {
                (
                    $0.message.id, DeliveryUpdate(state: .sent, providerMessageID: "SM-" + $0.message.idempotencyKey),
                    false
                )
            },
            at: F.now)
        // Each message's `sent`, `delivered` and `read` reach both instances at once, in both orders.
        let outcomes = try await withThrowingTaskGroup(of: [ReceiptOutcome].self) { group in
            for (index, key) in keys.enumerated() {
                let receipts = [
                    status("SM-" + key, "read", .read), status("SM-" + key, "sent", .sent),
                    status("SM-" + key, "delivered", .delivered),
                ]
                group.addTask {
                    try await one.recordReceipts(index % 2 == 0 ? receipts : receipts.reversed(), at: F.now)
                }
                group.addTask {
                    try await two.recordReceipts(index % 2 == 0 ? receipts.reversed() : receipts, at: F.now)
                }
            }
            var all: [ReceiptOutcome] = []
            for try await outcome in group { all += outcome }
            return all
        }
        #expect(outcomes.filter { $0 == .duplicate }.count == keys.count * 3)
        #expect(outcomes.count == keys.count * 6)
        let messages = try await two.messages(MessageQuery(limit: 100))
        #expect(messages.count == keys.count)
        #expect(
            messages.allSatisfy { $0.state == .read && $0.progress.deliveredAt != nil && $0.progress.readAt != nil })
        #expect(try await one.receipts(channel: "sms", limit: 1000).count == keys.count * 3)
        try await one.close()
        try await two.close()
    }

    /// A customer's STOP and START reach two instances at the same moment (Meta batches and
    /// retries; a balancer spreads them): whichever commits first, the later reply by Meta's time
    /// decides, so a STOP followed by START leaves the number free and START then STOP suppressed.
    @Test func stopAndStartOnTwoInstancesAtOnceEndByTheLaterOne() async throws {
        let schema = PostgresTestDatabase.freshSchema()
        let one = try await PostgresTestDatabase.open(schema: schema)
        let two = try await PostgresTestDatabase.open(schema: schema)
        func reply(_ id: String, _ body: String, from number: String, at time: Date) -> IncomingReceipt {
            let reply = Reply(providerMessageID: id, from: number, body: body)
            return IncomingReceipt(
                channel: "wa", receipt: Receipt(dedupeKey: id, content: .reply(reply), occurredAt: time),
                replyAction: ReplyAction(reply: reply, channel: "wa", keywords: ReplyKeywords()))
        }
        let numbers = (0..<30).map { "+2126100000\(String(format: "%02d", $0))" }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, number) in numbers.enumerated() {
                // Even numbers: STOP then START (free at the end); odd: START then STOP (suppressed).
                let first = reply("wamid.\(index).a", index % 2 == 0 ? "STOP" : "START", from: number, at: F.now)
                let second = reply("wamid.\(index).b", index % 2 == 0 ? "START" : "STOP", from: number, at: F.now + 1)
                // The later reply reaches its instance first for half of them.
                let (early, late) = index % 4 < 2 ? (second, first) : (first, second)
                group.addTask { _ = try await one.recordReceipts([early], at: F.now + 2) }
                group.addTask { _ = try await two.recordReceipts([late], at: F.now + 2) }
            }
            try await group.waitForAll()
        }
        let suppressed = Set(try await one.suppressions(numbers: nil).map(\.number))
        #expect(suppressed == Set(numbers.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)))
        #expect(try await two.replies(sender: nil, limit: 100).count == numbers.count * 2)
        try await one.close()
        try await two.close()
    }
}
