import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

@testable import HeraldStore

/// `herald copy`: an SQLite store with some of everything, copied into PostgreSQL, where nothing
/// is sent again and no opt-out is lost.
@Suite("SQLite to PostgreSQL copy", .enabled(if: !PostgresTestDatabase.skipped))
struct StoreCopyTests {
    typealias F = ContractFixtures
    static let optedOut = "+212600000001"
    static let forgotten = "+212600000002"
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("herald-copy-\(UUID()).sqlite").path

    /// The SQLite store: a pruned event (its message's key in `pruned_keys`), an event delivered
    /// twice with messages in six states, a stale event, an operator's suppression and a
    /// forgotten number's.
    func makeSource() async throws -> (redelivered: IncomingEvent, messages: [OutboxMessage]) {
        let store = try SQLiteStore(path: path)
        let later = Date().addingTimeInterval(86_400)
        let pruned = try await F.recordedEventID(store, reference: "ORD-1")
        try await F.decideWaiting(store)
        _ = try await store.completeProcessing(
            eventID: pruned, messages: [F.message("k-old", eventID: pruned, state: .sent)], at: F.now)
        let body = Fixtures.codPayload(reference: "ORD-2", from: "out_for_delivery", to: "delivered")
        let redelivered = try F.incoming("cod-fulfillment", body: body)
        guard case .accepted(let summary) = try await store.record(redelivered) else { throw StoreError("refused") }
        #expect(try await store.record(redelivered) == .duplicate(id: summary.id))
        let stale = Fixtures.codPayload(
            reference: "ORD-2", from: "prepared", to: "out_for_delivery", timestamp: "2026-05-01T12:00:00+02:00")
        _ = try await store.record(F.incoming("cod-fulfillment", body: stale))
        try await F.decideWaiting(store)
        let event = summary.id
        var sent = F.message("k-sent", eventID: event, reference: "ORD-2")
        sent.createdAt = later
        // A dispatcher claimed two messages and died after sending one: the other stays `sending`, leased.
        var sending = F.message("k-sending", eventID: event, reference: "ORD-2")
        sending.createdAt = later
        _ = try await store.completeProcessing(eventID: event, messages: [sent, sending], at: F.now)
        let claimed = try await store.claimDue(now: F.now, limit: 10, lease: 60)
        let sentID = try #require(claimed.first { $0.message.idempotencyKey == "k-sent" }).message.id
        try await store.record(DeliveryUpdate(state: .sent, providerMessageID: "SM1"), messageID: sentID, at: F.now)
        var messages = [sent, sending]
        for (key, state) in [("k-pending", OutboxMessage.State.pending), ("k-unknown", .unknown), ("k-held", .held)]
            + [("k-failed", .failed)]
        {
            var message = F.message(key, eventID: event, state: state, reference: "ORD-2")
            message.createdAt = later
            messages.append(message)
        }
        _ = try await store.completeProcessing(eventID: event, messages: Array(messages.dropFirst(2)), at: F.now)
        try await store.addSuppression(
            Suppression(number: Self.optedOut, reason: "asked by phone", source: .operator, createdAt: F.now))
        try await store.addSuppression(
            Suppression(number: Self.forgotten, reason: "STOP", source: .reply, createdAt: F.now))
        _ = try await store.forget(number: Self.forgotten, defaultCountry: "MA")
        let counts = try await store.prune(before: Date().addingTimeInterval(3600))
        #expect(counts.messages == 1)
        try await store.close()
        return (redelivered, messages)
    }

    @Test func everyTableComesAlongAndNothingIsSentAgain() async throws {
        let (redelivered, messages) = try await makeSource()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let target = try await PostgresTestDatabase.open()
        let summary = try await target.copy(fromSQLiteAt: path, pageSize: 2)
        var expected = CopySummary()
        (expected.events, expected.orders, expected.messages) = (3, 2, 6)
        (expected.suppressions, expected.settings, expected.prunedKeys) = (2, 1, 1)
        #expect(summary == expected)

        // Row for row, through the store protocols.
        let source = try SQLiteStore(path: path)
        let all = EventQuery(limit: 100)
        #expect(try await target.events(all).map { "\($0)" } == source.events(all).map { "\($0)" })
        #expect(try await target.events(all).contains { $0.redactedAt != nil && $0.body.isEmpty })
        #expect(try await target.events(all).contains { $0.stale })
        #expect(try await target.events(all).contains { $0.deliveries == 2 })
        let byOrder: (OrderState, OrderState) -> Bool = { $0.reference < $1.reference }
        #expect(
            try await target.orderStates().sorted(by: byOrder) == source.orderStates().sorted(by: byOrder))
        let everyMessage = MessageQuery(limit: 100)
        #expect(try await target.messages(everyMessage) == source.messages(everyMessage))
        #expect(try await target.suppressions(numbers: nil) == source.suppressions(numbers: nil))
        try await source.close()
        for (table, count) in [("pruned_keys", 1), ("settings", 1)] {
            let rows = try await target.client.query(
                "SELECT count(*) FROM \(unescaped: table)", logger: target.logger
            ).collect()
            #expect(try rows.first?.decode(Int.self) == count)
        }

        // A redelivery is a duplicate; processing again (or a pruned message's key) inserts nothing.
        let event = try #require(messages.first).eventID
        #expect(try await target.record(redelivered) == .duplicate(id: event))
        #expect(try await target.completeProcessing(eventID: event, messages: messages, at: F.now) == 0)
        let pruned = F.message("k-old", eventID: try #require(messages.first).eventID - 1, state: .pending)
        #expect(try await target.completeProcessing(eventID: pruned.eventID, messages: [pruned], at: F.now) == 0)

        // Only the pending message is due: the sent one is not sent again.
        let claimed = try await target.claimDue(now: F.now.addingTimeInterval(1), limit: 10, lease: 3600)
        #expect(claimed.map(\.message.idempotencyKey) == ["k-pending"])
        // The `sending` one kept its lease: once it ends, it is recovered (its outcome unknown), as on SQLite.
        let recovered = try await target.claimDue(now: F.now.addingTimeInterval(120), limit: 10, lease: 60)
        #expect(recovered.map(\.message.idempotencyKey) == ["k-sending"])
        #expect(recovered.first?.recovered == true)

        // The forgotten number's opt-out still matches (its hash's secret came along).
        #expect(try await target.isSuppressed(Self.forgotten, channel: "sms"))
        #expect(try await target.suppression(for: Self.forgotten, channel: "sms")?.number == Self.forgotten)
        #expect(try await target.isSuppressed(Self.optedOut, channel: "sms"))

        // New rows get ids above the copied ones.
        let copiedIDs = try await target.events(all).map(\.id)
        let next = try await F.recordedEventID(target, reference: "ORD-9")
        #expect(next > copiedIDs.max() ?? 0)
        let added = try await target.addSuppression(
            Suppression(number: "+212600000003", reason: "asked", source: .operator, createdAt: F.now))
        #expect(added)
        try await target.close()
    }

    @Test func aTargetWithDataIsRefusedAndKeptAsItWas() async throws {
        _ = try await makeSource()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let target = try await PostgresTestDatabase.open()
        _ = try await F.recordedEventID(target, reference: "ORD-7")
        do {
            _ = try await target.copy(fromSQLiteAt: path)
            Issue.record("copied into a database with an event")
        } catch {
            #expect("\(error)" == "the target database is not empty (1 event); copy into an empty database")
        }
        #expect(try await target.events(EventQuery()).count == 1)
        try await target.close()
    }
}
