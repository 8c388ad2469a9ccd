import Foundation
import HeraldCore
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Logging
import Synchronization
import Testing

/// `herald prune` and `herald forget` on a real store: what is gone, what stays, and that a
/// forgotten number's opt-out survives.
@Suite("Retention and erasure")
struct RetentionTests {
    let path = Fixtures.temporaryDatabasePath()
    let ruleSet: RuleSet
    let templates: TemplateStore
    let logs = LogRecorder()
    static let now = Date(timeIntervalSince1970: 1_778_414_400)  // 12:00 UTC: no quiet hours
    static let old = now.addingTimeInterval(-40 * 86_400)
    let karim = "+212661234567"
    let nadia = "+212662000111"

    init() throws {
        ruleSet = try Fixtures.shippedRuleSet()
        templates = try TemplateStore.load(path: Fixtures.root.appendingPathComponent("templates").path)
    }

    /// A cod-fulfillment event for `reference` moving to `status`, received at `at`, for Karim or,
    /// with `other`, for Nadia (another number, name and address).
    func request(_ reference: String, to status: String, at date: Date, other: Bool = false) -> WebhookRequest {
        var text = String(
            decoding: Fixtures.codPayload(
                reference: reference, from: "out_for_delivery", to: status,
                timestamp: Timestamp.format(date)),
            as: UTF8.self)
        if other {
            text = text.replacingOccurrences(of: "+212661234567", with: nadia)
                .replacingOccurrences(of: "Karim Mansouri", with: "Nadia Alaoui")
                .replacingOccurrences(of: "123 Bd Mohammed V", with: "7 Rue Tarik")
        } else {
            // The national spelling, with spaces, as a merchant may type it in a note.
            text = text.replacingOccurrences(of: "Call before delivery", with: "Call 066 123 4567 before delivery")
        }
        return Fixtures.request(provider: "cod-fulfillment", body: Array(text.utf8), receivedAt: date)
    }

    @discardableResult
    func record(_ request: WebhookRequest, in store: SQLiteStore) async throws -> RecordOutcome {
        let profile = try #require(ruleSet.provider(named: "cod-fulfillment"))
        return try await store.record(
            IncomingEvent(request: request, profile: profile))
    }

    func process(_ store: SQLiteStore, at date: Date) async throws {
        let processor = EventProcessor(
            ruleSet: ruleSet, templates: templates, store: store, logger: logs.logger(), clock: { date })
        _ = try await processor.processPending()
    }

    /// Marks every message of `reference` `state`.
    func finish(_ reference: String, _ state: OutboxMessage.State, in store: SQLiteStore) async throws {
        for message in try await store.messages(MessageQuery(orderReference: reference)) {
            try await store.record(DeliveryUpdate(state: state), messageID: message.id, at: Self.old)
        }
    }

    @Test func pruneDeletesOldFinishedWorkAndKeepsTheRest() async throws {
        let store = try SQLiteStore(path: path)
        let sent = request("OLD-SENT", to: "delivered", at: Self.old)
        try await record(sent, in: store)
        try await record(request("OLD-PENDING", to: "delivered", at: Self.old), in: store)
        try await process(store, at: Self.old)
        try await finish("OLD-SENT", .sent, in: store)
        try await record(request("NEW", to: "delivered", at: Self.now), in: store)
        try await process(store, at: Self.now)
        try await finish("NEW", .sent, in: store)
        let cutoff = Self.now.addingTimeInterval(-30 * 86_400)
        // Receipts: the old message's, an old reply, and a new message's and a new reply (kept).
        func status(_ reference: String) async throws -> IncomingReceipt {
            let message = try #require(try await store.messages(MessageQuery(orderReference: reference)).first)
            let report = StatusReport(
                providerMessageID: "SM-" + reference, providerStatus: "delivered", state: .delivered,
                idempotencyKey: message.idempotencyKey)
            return IncomingReceipt(channel: "sms", receipt: Receipt(dedupeKey: reference, content: .status(report)))
        }
        func reply(_ sid: String) -> IncomingReceipt {
            let content = Receipt.Content.reply(Reply(providerMessageID: sid, from: karim, body: "ok"))
            return IncomingReceipt(channel: "sms", receipt: Receipt(dedupeKey: sid, content: content))
        }
        _ = try await store.recordReceipts([try await status("OLD-SENT"), reply("SM-OLD")], at: Self.old)
        _ = try await store.recordReceipts([try await status("NEW"), reply("SM-NEW")], at: Self.now)

        let dry = try await store.prune(before: cutoff, dryRun: true)
        #expect(dry == PruneCounts(events: 1, messages: 1, receipts: 2))
        #expect(try await store.messages(MessageQuery()).count == 3)
        #expect(try await store.events(EventQuery()).allSatisfy { !$0.body.isEmpty })

        let prunedCounts = try await store.prune(before: cutoff, batchSize: 1)
        #expect(prunedCounts == PruneCounts(events: 1, messages: 1, receipts: 2))
        #expect(Set(try await store.receipts(channel: nil, limit: 10).map(\.dedupeKey)) == ["NEW", "SM-NEW"])
        let messages = try await store.messages(MessageQuery())
        #expect(Set(messages.compactMap(\.orderReference)) == ["OLD-PENDING", "NEW"])
        let events = try await store.events(EventQuery())
        let pruned = try #require(events.first { $0.orderReference == "OLD-SENT" })
        #expect(pruned.body.isEmpty && pruned.headers.isEmpty && pruned.remoteAddress == nil)
        #expect(pruned.status == "delivered")
        #expect(events.filter { $0.orderReference != "OLD-SENT" }.allSatisfy { !$0.body.isEmpty })
        // The order keeps its status (staleness, previous status), not its customer.
        let order = try #require(try await store.orderState(provider: "cod-fulfillment", reference: "OLD-SENT"))
        #expect(order.status == "delivered" && order.remembered.isEmpty)
        #expect(try await store.prune(before: cutoff) == PruneCounts(events: 0, messages: 0))

        // The provider redelivers the pruned event: a duplicate, not processed, no second message.
        let outcome = try await record(sent, in: store)
        guard case .duplicate = outcome else {
            Issue.record("a redelivery of a pruned event was \(outcome)")
            return
        }
        try await process(store, at: Self.now)
        #expect(try await store.messages(MessageQuery(orderReference: "OLD-SENT")).isEmpty)

        // The same change under another dedupe key (a provider that numbers each delivery): its
        // message has the pruned message's idempotency key, which the prune kept: none is sent.
        let profile = try #require(ruleSet.provider(named: "cod-fulfillment"))
        var again = IncomingEvent(request: sent, profile: profile)
        again.dedupeKey += "-redelivered-under-a-new-id"
        guard case .accepted = try await store.record(again) else {
            Issue.record("an event under a new dedupe key was not accepted")
            return
        }
        try await process(store, at: Self.now)
        #expect(try await store.messages(MessageQuery(orderReference: "OLD-SENT")).isEmpty)
        try await store.close()
    }

    /// Every spelling of the number is gone from the database file and its WAL; Nadia's stays.
    @Test func forgetLeavesNoTraceOfTheNumberButItsOptOut() async throws {
        let store = try SQLiteStore(path: path)
        try await record(request("K-1", to: "delivered", at: Self.old), in: store)
        try await record(request("N-1", to: "delivered", at: Self.old, other: true), in: store)
        // A provider deduplicated on the phone field: the key holds the number too.
        let profile = try #require(ruleSet.provider(named: "cod-fulfillment"))
        let keyed = request("K-0", to: "cancelled", at: Self.old)
        var byPhone = IncomingEvent(request: keyed, profile: profile)
        byPhone.dedupeKey = "K-0|+212661234567"
        _ = try await store.record(byPhone)
        try await process(store, at: Self.old)
        try await finish("K-1", .failed, in: store)
        try await store.addSuppression(
            Suppression(number: karim, reason: "asked by phone", source: .operator, createdAt: Self.old))
        try await store.addSuppression(
            Suppression(
                number: karim, scope: .channel("whatsapp"), reason: "21610", source: .providerError,
                createdAt: Self.old))
        // Receipts: Karim's reply, a signed body that did not parse naming him, and Nadia's reply.
        let reply = { (sid: String, from: String) in
            Receipt(dedupeKey: sid, content: .reply(Reply(providerMessageID: sid, from: from, body: "Karim Mansouri")))
        }
        let nadiasReply = Receipt(
            dedupeKey: "SM-N", content: .reply(Reply(providerMessageID: "SM-N", from: nadia, body: "merci")))
        _ = try await store.recordReceipts(
            [
                IncomingReceipt(channel: "sms", receipt: reply("SM-K", karim)),
                IncomingReceipt(
                    channel: "whatsapp", unparsedBody: Array(#"{"from":"212661234567""#.utf8), parseError: "not JSON"),
                IncomingReceipt(channel: "sms", receipt: nadiasReply),
            ], at: Self.old)
        let counts = try await store.forget(number: karim, defaultCountry: "MA", at: Self.now)
        #expect(counts == ForgetCounts(events: 2, messages: 1, suppressions: 2, receipts: 2))
        try await store.close()

        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        if let wal = try? Data(contentsOf: URL(fileURLWithPath: path + "-wal")) { bytes.append(wal) }
        for spelling in ["212661234567", "0661234567", "066 123 4567", "661234567", "Karim Mansouri", "Mohammed V"] {
            #expect(bytes.range(of: Data(spelling.utf8)) == nil, "\(spelling) is still in the file")
        }
        #expect(bytes.range(of: Data("212662000111".utf8)) != nil)
        #expect(bytes.range(of: Data("Nadia Alaoui".utf8)) != nil)

        // Reopened: the opt-out still stops a new order's message to Karim.
        let reopened = try SQLiteStore(path: path)
        #expect(try await reopened.suppression(for: karim, channel: "sms")?.source == .operator)
        #expect(try await reopened.isSuppressed(karim, channel: "whatsapp"))
        #expect(try await reopened.suppression(for: nadia, channel: "sms") == nil)
        // The redacted receipts keep their provider ids: a redelivered reply is still a duplicate.
        #expect(
            try await reopened.recordReceipts(
                [IncomingReceipt(channel: "sms", receipt: reply("SM-K", karim))], at: Self.now) == [.duplicate])
        let kept = try await reopened.receipts(channel: "sms", limit: 10)
        #expect(kept.first { $0.dedupeKey == "SM-N" }?.sender == nadia)
        let list = try await reopened.suppressions(numbers: nil)
        #expect(list.count == 2 && list.allSatisfy { NumberHash.isHash($0.number) })
        try await record(request("K-2", to: "delivered", at: Self.now), in: reopened)
        try await process(reopened, at: Self.now)
        let message = try #require(try await reopened.messages(MessageQuery(orderReference: "K-2")).first)
        #expect(message.state == .suppressed && message.recipient == karim)
        #expect(message.lastError == "suppressed (operator): asked by phone")
        // The forgotten event is still a duplicate when redelivered.
        let k1 = try #require(try await reopened.events(EventQuery()).first { $0.orderReference == "K-1" })
        #expect(String(decoding: k1.body, as: UTF8.self) == #"{"redacted":"herald forget"}"#)
        // `herald suppressions remove` of the number lifts its hashed entries.
        #expect(try await reopened.removeSuppressions(number: karim, scope: nil).count == 2)
        #expect(try await reopened.suppression(for: karim, channel: "sms") == nil)
        try await reopened.close()
    }

    /// Forget is not an opt-out: a number that had no entry gets none, and its queued messages
    /// end `suppressed` (nothing is sent to a hash).
    @Test func forgetAddsNoOptOutAndStopsQueuedMessages() async throws {
        let store = try SQLiteStore(path: path)
        try await record(request("K-1", to: "delivered", at: Self.now), in: store)
        try await process(store, at: Self.now)
        // Held: the fixtures set no channel credentials. Unfinished all the same.
        #expect(try await store.messages(MessageQuery()).map(\.state) == [.held])
        #expect(
            try await store.forget(number: karim, defaultCountry: "MA")
                == ForgetCounts(
                    events: 1, messages: 1, suppressions: 0))
        #expect(try await store.suppressions(numbers: nil).isEmpty)
        let message = try #require(try await store.messages(MessageQuery()).first)
        #expect(message.state == .suppressed && NumberHash.isHash(message.recipient))
        #expect(!message.text.contains("Karim"))
        try await store.close()
    }

    /// `serve --retention-days`: the service prunes at start and at every interval, by its clock.
    @Test func theRetentionServicePrunesOnItsClock() async throws {
        let store = try SQLiteStore(path: path)
        try await record(request("OLD", to: "delivered", at: Self.old), in: store)
        try await process(store, at: Self.old)
        try await finish("OLD", .sent, in: store)
        let clock = Mutex(Self.old)
        let service = RetentionService(
            store: store, days: 30, interval: .milliseconds(20), clock: { clock.withLock { $0 } },
            logger: logs.logger())
        let running = Task { try await service.run() }
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await store.messages(MessageQuery()).count == 1)  // 40 days old is not old yet then
        clock.withLock { $0 = Self.now }
        var waited = 0
        // Until the run has finished (its log line), not only begun: messages go before event bodies.
        while !logs.text.contains("retention: pruned herald.events=1"), waited < 500 {
            try await Task.sleep(for: .milliseconds(20))
            waited += 1
        }
        running.cancel()
        try await running.value
        #expect(try await store.messages(MessageQuery()).isEmpty)
        #expect(try await store.events(EventQuery()).allSatisfy { $0.body.isEmpty })
        #expect(
            logs.text.contains(
                "retention: pruned herald.events=1 herald.messages=1 herald.receipts=0 herald.retention_days=30"))
        #expect(!logs.text.contains("212661234567"))
        try await store.close()
    }
}
