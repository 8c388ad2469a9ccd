import Foundation
import GRDB

/// The outbox: claims under a lease, send outcomes, and the operator's retries.
extension SQLiteStore {
    /// Claims up to `limit` due messages under a lease: pending ones whose time has come, and
    /// `sending` ones whose lease expired (a dispatcher died mid-send; `recovered` is true for
    /// those: their outcome is unknown).
    public func claimDue(now: Date, limit: Int, lease: TimeInterval) async throws -> [(
        message: OutboxMessage, recovered: Bool
    )] {
        guard !isClosedNow else { throw StoreError.closed }
        let moment = now.timeIntervalSince1970
        return try await pool.write { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT * FROM messages
                        WHERE (state = 'pending' AND next_attempt_at <= ?) OR (state = 'sending' AND lease_expires_at <= ?)
                        ORDER BY next_attempt_at, id LIMIT ?
                        """),
                arguments: [moment, moment, limit])
            var claimed: [(OutboxMessage, Bool)] = []
            for row in rows {
                var message = Self.outboxMessage(row)
                let recovered = message.state == .sending
                // A recovered message keeps the time of the attempt it was claimed for.
                try db.cachedStatement(
                    sql: """
                        UPDATE messages SET state = 'sending', lease_expires_at = ?, attempts = attempts + 1,
                            attempted_at = CASE WHEN state = 'sending' THEN COALESCE(attempted_at, ?) ELSE ? END
                        WHERE id = ?
                        """
                ).execute(arguments: [moment + lease, moment - lease, moment, message.id])
                if !recovered { message.attemptedAt = now }
                if recovered, message.attemptedAt == nil { message.attemptedAt = now.addingTimeInterval(-lease) }
                message.state = .sending
                message.attempts += 1
                claimed.append((message, recovered))
            }
            return claimed
        }
    }

    /// Claims up to `limit` `unknown` messages whose lookup is due, by moving their next lookup a
    /// lease away (a dispatcher that dies mid-lookup leaves them to the next one then); they stay
    /// `unknown` until the lookup's outcome is recorded.
    public func claimLookups(now: Date, limit: Int, lease: TimeInterval) async throws -> [OutboxMessage] {
        guard !isClosedNow else { throw StoreError.closed }
        let moment = now.timeIntervalSince1970
        return try await pool.write { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT * FROM messages WHERE state = 'unknown' AND next_attempt_at <= ?
                        ORDER BY next_attempt_at, id LIMIT ?
                        """),
                arguments: [moment, limit])
            return try rows.map { row in
                let message = Self.outboxMessage(row)
                try db.cachedStatement(
                    sql: "UPDATE messages SET next_attempt_at = ? WHERE id = ? AND state = 'unknown'"
                ).execute(arguments: [moment + lease, message.id])
                return message
            }
        }
    }

    /// Records a batch of send outcomes in one transaction. A receipt may have come first (the
    /// provider answered the callback before the send's answer was recorded): a delivery state it
    /// left stays, so the message never moves back to `sent`.
    public func record(_ updates: [(messageID: Int64, update: DeliveryUpdate, refundAttempt: Bool)], at now: Date)
        async throws
    {
        guard !isClosedNow else { throw StoreError.closed }
        try await pool.write { db in
            for (messageID, update, refundAttempt) in updates {
                try db.cachedStatement(
                    sql: """
                        UPDATE messages SET state = CASE WHEN state IN ('delivered', 'undelivered', 'read')
                                THEN state ELSE ? END,
                            next_attempt_at = ?, last_error = ?,
                            provider_message_id = COALESCE(?, provider_message_id), channel = COALESCE(?, channel),
                            recipient = COALESCE(?, recipient), lease_expires_at = NULL,
                            sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END,
                            attempts = attempts - ?
                        WHERE id = ?
                        """
                ).execute(arguments: [
                    update.state.rawValue, update.nextAttemptAt?.timeIntervalSince1970, update.lastError,
                    update.providerMessageID,
                    update.channel, update.recipient, update.state.rawValue, now.timeIntervalSince1970,
                    refundAttempt ? 1 : 0, messageID,
                ])
            }
            // Numbers the provider said opted out, in the transaction that records the outcome.
            for suppression in updates.compactMap({ $0.update.suppression }) { try Self.add(suppression, db: db) }
        }
    }

    /// `herald retry`: puts failed or held messages back in the queue, keeping their key.
    /// Returns the ids released (sent and pending ones are left alone). An `unknown` message (it
    /// may have gone out) is released only with `force`, on the operator's word.
    public func release(ids: [Int64], at now: Date, force: Bool) async throws -> [Int64] {
        guard !isClosedNow else { throw StoreError.closed }
        return try await pool.write { db in
            var released: [Int64] = []
            for id in ids {
                try db.cachedStatement(
                    sql: """
                        UPDATE messages SET state = 'pending', next_attempt_at = ?, attempts = 0
                        WHERE id = ? AND (state IN ('failed', 'held') OR (? AND state = 'unknown'))
                            AND recipient NOT LIKE 'forgotten:%'
                        """
                ).execute(arguments: [now.timeIntervalSince1970, id, force])
                if db.changesCount > 0 { released.append(id) }
            }
            return released
        }
    }

    /// `herald retry` of a message that failed before it had a text: stores what planning it again
    /// gave (text, locale, encoding, WhatsApp template call, and the reason when it failed again),
    /// leaving its key. Only a `failed` message changes; returns whether it did.
    @discardableResult
    public func replan(id: Int64, with message: OutboxMessage) async throws -> Bool {
        guard !isClosedNow else { throw StoreError.closed }
        return try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE messages SET text = ?, locale = ?, encoding = ?, segments = ?, whatsapp = ?, last_error = ?
                    WHERE id = ? AND state = 'failed'
                    """,
                arguments: [
                    message.text, message.locale, message.encoding, message.segments, message.whatsapp?.json,
                    message.lastError, id,
                ])
            return db.changesCount > 0
        }
    }

    /// The outbox, most recent first.
    public func messages(_ query: MessageQuery) async throws -> [OutboxMessage] {
        guard !isClosedNow else { throw StoreError.closed }
        return try await pool.read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let reference = query.orderReference {
                conditions.append("order_reference = ?")
                _ = arguments.append(contentsOf: [reference])
            }
            if let state = query.state {
                conditions.append("state = ?")
                _ = arguments.append(contentsOf: [state.rawValue])
            }
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            _ = arguments.append(contentsOf: [query.limit])
            return try Row.fetchAll(
                db, sql: "SELECT * FROM messages \(whereClause) ORDER BY id DESC LIMIT ?", arguments: arguments
            ).map(Self.outboxMessage)
        }
    }

    /// How many messages are in each state, and events waiting to be processed (for /metrics).
    public func queueDepths() async throws -> (messages: [OutboxMessage.State: Int], unprocessedEvents: Int) {
        guard !isClosedNow else { throw StoreError.closed }
        return try await pool.read { db in
            var counts: [OutboxMessage.State: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM messages GROUP BY state") {
                if let state = OutboxMessage.State(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            let waiting = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events WHERE processed_at IS NULL") ?? 0
            return (counts, waiting)
        }
    }
}
