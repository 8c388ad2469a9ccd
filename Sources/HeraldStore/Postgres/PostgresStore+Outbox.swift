import Foundation
import PostgresNIO

/// The outbox: claims under a lease, send outcomes, and the operator's retries.
///
/// A claim is one statement: `UPDATE … FROM (SELECT … FOR UPDATE SKIP LOCKED LIMIT n)`, so two
/// dispatchers (in one process or several) claiming at once never get the same message.
extension PostgresStore {
    public func claimDue(now: Date, limit: Int, lease: TimeInterval) async throws -> [(
        message: OutboxMessage, recovered: Bool
    )] {
        guard !isClosedNow else { throw StoreError.closed }
        let moment = now.timeIntervalSince1970
        var bindings = PostgresBindings()
        bindings.append(moment)
        bindings.append(moment + lease)
        bindings.append(moment - lease)
        bindings.append(Int64(limit))
        let rows = try await rows(Prepared<ClaimDue>(bindings))
        let claimed = try rows.map { row in
            (message: try Self.outboxMessage(row), recovered: try PostgresColumns(row)("claimed_from") == "sending")
        }
        return claimed.sorted { Self.dueOrder($0.message, $1.message) }
    }

    /// A recovered message keeps the time of the attempt it was claimed for.
    enum ClaimDue: PreparedSQL {
        static let sql = """
            UPDATE messages AS m SET state = 'sending', lease_expires_at = $2,
                attempts = m.attempts + 1,
                attempted_at = CASE WHEN m.state = 'sending' THEN COALESCE(m.attempted_at, $3) ELSE $1 END
            FROM (
                SELECT id, state AS claimed_from FROM messages
                WHERE (state = 'pending' AND next_attempt_at <= $1)
                    OR (state = 'sending' AND lease_expires_at <= $1)
                ORDER BY next_attempt_at NULLS FIRST, id LIMIT $4
                FOR UPDATE SKIP LOCKED
            ) AS due
            WHERE m.id = due.id
            RETURNING \(PreparedColumns.qualified(PreparedColumns.messages, "m")), due.claimed_from
            """
    }

    public func claimLookups(now: Date, limit: Int, lease: TimeInterval) async throws -> [OutboxMessage] {
        guard !isClosedNow else { throw StoreError.closed }
        let moment = now.timeIntervalSince1970
        var bindings = PostgresBindings()
        bindings.append(moment)
        bindings.append(moment + lease)
        bindings.append(Int64(limit))
        let rows = try await rows(Prepared<ClaimLookups>(bindings))
        // Returned as they were claimed, before their next lookup moved.
        let claimed = try rows.map { row in
            var message = try Self.outboxMessage(row)
            message.nextAttemptAt = try PostgresColumns(row).optionalDate("due_at")
            return message
        }
        return claimed.sorted(by: Self.dueOrder)
    }

    enum ClaimLookups: PreparedSQL {
        static let sql = """
            UPDATE messages AS m SET next_attempt_at = $2
            FROM (
                SELECT id, next_attempt_at AS due_at FROM messages
                WHERE state = 'unknown' AND next_attempt_at <= $1
                ORDER BY next_attempt_at, id LIMIT $3
                FOR UPDATE SKIP LOCKED
            ) AS due
            WHERE m.id = due.id
            RETURNING \(PreparedColumns.qualified(PreparedColumns.messages, "m")), due.due_at
            """
    }

    /// SQLite's `ORDER BY next_attempt_at, id` (no time first).
    static func dueOrder(_ first: OutboxMessage, _ second: OutboxMessage) -> Bool {
        switch (first.nextAttemptAt, second.nextAttemptAt) {
        case (nil, nil): return first.id < second.id
        case (nil, _): return true
        case (_, nil): return false
        case (let a?, let b?): return a == b ? first.id < second.id : a < b
        }
    }

    public func record(_ updates: [(messageID: Int64, update: DeliveryUpdate, refundAttempt: Bool)], at now: Date)
        async throws
    {
        guard !isClosedNow else { throw StoreError.closed }
        let logger = self.logger
        let moment = now.timeIntervalSince1970
        var rows = PostgresRecordSet()
        for (messageID, received, refundAttempt) in updates {
            let update = received.storableInPostgres
            rows.append([
                ("id", .integer(messageID)), ("state", .text(update.state.rawValue)),
                ("next_attempt_at", .real(update.nextAttemptAt?.timeIntervalSince1970)),
                ("last_error", .text(update.lastError)), ("provider_message_id", .text(update.providerMessageID)),
                ("channel", .text(update.channel)), ("recipient", .text(update.recipient)),
                ("refund", .integer(refundAttempt ? 1 : 0)),
            ])
        }
        guard !rows.isEmpty else { return }
        // One statement for the batch's outcomes (a receipt that came first keeps its state).
        var bindings = PostgresBindings()
        bindings.append(moment)
        bindings.append(rows.json)
        let statement = Prepared<RecordOutcomes>(bindings)
        // Numbers the provider said opted out, in the transaction that records the outcome.
        let suppressions = updates.compactMap { $0.update.suppression }
        guard !suppressions.isEmpty else {
            _ = try await self.rows(statement)
            return
        }
        try await transaction { connection in
            try await connection.execute(statement, logger: logger)
            for suppression in suppressions { try await Self.add(suppression, on: connection, logger: logger) }
        }
    }

    enum RecordOutcomes: PreparedSQL {
        static let sql = """
            UPDATE messages AS m SET state = CASE WHEN m.state IN ('delivered', 'undelivered', 'read')
                    THEN m.state ELSE u.state END,
                next_attempt_at = u.next_attempt_at, last_error = u.last_error,
                provider_message_id = COALESCE(u.provider_message_id, m.provider_message_id),
                channel = COALESCE(u.channel, m.channel), recipient = COALESCE(u.recipient, m.recipient),
                lease_expires_at = NULL,
                sent_at = CASE WHEN u.state = 'sent' THEN $1 ELSE m.sent_at END,
                attempts = m.attempts - u.refund
            FROM json_to_recordset($2::json) AS u (
                id int8, state text, next_attempt_at float8, last_error text, provider_message_id text,
                channel text, recipient text, refund int4)
            WHERE m.id = u.id
            """
    }

    public func release(ids: [Int64], at now: Date, force: Bool) async throws -> [Int64] {
        guard !isClosedNow else { throw StoreError.closed }
        let rows = try await rows(
            """
            UPDATE messages SET state = 'pending', next_attempt_at = \(now.timeIntervalSince1970), attempts = 0
            WHERE id = ANY(\(ids)) AND (state IN ('failed', 'held') OR (\(force) AND state = 'unknown'))
                AND recipient NOT LIKE 'forgotten:%'
            RETURNING id
            """
        )
        let released = Set(try rows.map { try $0.decode(Int64.self) })
        var seen: Set<Int64> = []
        return ids.filter { released.contains($0) && seen.insert($0).inserted }
    }

    @discardableResult
    public func replan(id: Int64, with message: OutboxMessage) async throws -> Bool {
        guard !isClosedNow else { throw StoreError.closed }
        let message = message.storableInPostgres
        return try await !rows(
            """
            UPDATE messages SET text = \(message.text), locale = \(message.locale), encoding = \(message.encoding),
                segments = \(message.segments), whatsapp = \(message.whatsapp?.json), last_error = \(message.lastError)
            WHERE id = \(id) AND state = 'failed'
            RETURNING id
            """
        ).isEmpty
    }

    public func messages(_ query: MessageQuery) async throws -> [OutboxMessage] {
        guard !isClosedNow else { throw StoreError.closed }
        let state = query.state?.rawValue
        return try await rows(
            """
            SELECT * FROM messages
            WHERE (\(query.orderReference)::text IS NULL OR order_reference = \(query.orderReference))
                AND (\(state)::text IS NULL OR state = \(state))
            ORDER BY id DESC LIMIT \(query.limit)
            """
        ).map(Self.outboxMessage)
    }

    public func queueDepths() async throws -> (messages: [OutboxMessage.State: Int], unprocessedEvents: Int) {
        guard !isClosedNow else { throw StoreError.closed }
        var counts: [OutboxMessage.State: Int] = [:]
        for row in try await rows("SELECT state, COUNT(*)::int8 FROM messages GROUP BY state") {
            let (name, count) = try row.decode((String, Int).self)
            if let state = OutboxMessage.State(rawValue: name) { counts[state] = count }
        }
        let waiting =
            try await rows("SELECT COUNT(*)::int8 FROM events WHERE processed_at IS NULL")
            .first.map { try $0.decode(Int.self) } ?? 0
        return (counts, waiting)
    }
}
