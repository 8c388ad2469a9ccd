import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Logging
import ServiceLifecycle
import Testing

/// A failed WhatsApp status plans its fallback once, even reaching two instances at once, and the
/// instance that did not record it hears that messages were queued.
extension PostgresReceiptsTests {
    func failed(_ key: String, _ status: String, code: String) -> IncomingReceipt {
        let report = StatusReport(
            providerMessageID: "wamid-" + key, providerStatus: status, state: .undelivered, errorCode: code)
        return IncomingReceipt(
            channel: "whatsapp",
            receipt: Receipt(dedupeKey: "wamid-" + key + " " + status, content: .status(report)))
    }

    @Test func aFallbackPlannedOnTwoInstancesAtOnceIsPlannedOnceAndHeard() async throws {
        let schema = PostgresTestDatabase.freshSchema()
        let one = try await PostgresTestDatabase.open(schema: schema)
        let two = try await PostgresTestDatabase.open(schema: schema)
        let eventID = try await F.recordedEventID(one)
        let keys = (0..<10).map { "w\($0)" }
        try await one.completeProcessing(
            eventID: eventID,
            messages: keys.map {
                var message = F.message($0, eventID: eventID)
                message.channel = "whatsapp"
                return message
            }, at: F.now)
        let claimed = try await one.claimDue(now: F.now, limit: 100, lease: 60)
        try await one.record(
            claimed.map {
                let id = "wamid-" + $0.message.idempotencyKey
                return ($0.message.id, DeliveryUpdate(state: .sent, providerMessageID: id), false)
            }, at: F.now)
        let fallbacks = ReceiptFallbacks(channels: ["delivered": "sms"], templateChannels: ["whatsapp"])
        // `one` records a failed status: `two`'s listener hears that messages were queued.
        let (changes, heard) = AsyncStream.makeStream(of: StoreChange.self)
        two.observeChanges { heard.yield($0) }
        let group = ServiceGroup(
            configuration: .init(services: two.services.map { .init(service: $0) }, logger: Logger(label: "t")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = changes.makeAsyncIterator()
            // On connecting, the listener wakes both loops; then only what `one` does is heard.
            _ = [await iterator.next(), await iterator.next()]
            let first = try await one.recordReceipts(
                [failed(keys[0], "failed", code: "131026")], at: F.now + 5, fallbacks: fallbacks)
            guard case .recorded(_, .undelivered, let effects)? = first.first else {
                Issue.record("not applied: \(first)")
                return
            }
            #expect(effects.fallbackMessageID != nil)
            #expect(await iterator.next() == .messagesQueued)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        // Meta's webhook and its retry on both instances at once, with another failed status about
        // the same message (131047 after 131026).
        let outcomes = try await withThrowingTaskGroup(of: [ReceiptOutcome].self) { receipts in
            for key in keys.dropFirst() {
                let batch = [failed(key, "failed", code: "131026"), failed(key, "undelivered", code: "131047")]
                receipts.addTask { try await one.recordReceipts(batch, at: F.now + 5, fallbacks: fallbacks) }
                receipts.addTask { try await two.recordReceipts(batch.reversed(), at: F.now + 5, fallbacks: fallbacks) }
            }
            var all: [ReceiptOutcome] = []
            for try await outcome in receipts { all += outcome }
            return all
        }
        let planned = outcomes.compactMap {
            if case .recorded(_, _, let effects) = $0 { effects.fallbackMessageID } else { nil }
        }
        #expect(planned.count == keys.count - 1)
        #expect(outcomes.filter { $0 == .duplicate }.count == (keys.count - 1) * 2)
        let messages = try await one.messages(MessageQuery(limit: 100))
        #expect(messages.filter { $0.channel == "sms" }.count == keys.count)
        #expect(Set(planned).isSubset(of: Set(messages.filter { $0.channel == "sms" }.map(\.id))))
        #expect(messages.filter { $0.channel == "whatsapp" }.allSatisfy { $0.state == .undelivered })
        try await one.close()
        try await two.close()
    }
}
