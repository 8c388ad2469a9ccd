import Foundation
import GRDB
import HeraldCore

/// Intake's events: recorded undecided, then processed into the outbox with their order state.
extension SQLiteStore {
    public func record(_ event: IncomingEvent) async throws -> RecordOutcome {
        guard !isClosedNow else { throw StoreError.closed }
        return try await committer.submit(event)
    }

    /// Inserts one event, undecided, inside the batch's transaction.
    static func insert(_ event: IncomingEvent, db: Database) throws -> RecordOutcome {
        let headers = StoredHeaders.text(event.headers)
        // Cached statements: compiled once per connection, not once per event.
        let row = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    INSERT INTO events (provider, dedupe_key, delivery_id, received_at, remote_address, headers, body,
                                        event, order_reference, status, parse_error, undecided)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
                    ON CONFLICT (provider, dedupe_key) DO UPDATE SET deliveries = deliveries + 1
                    RETURNING id, deliveries
                    """),
            arguments: [
                event.provider, event.dedupeKey, event.deliveryID, event.receivedAt.timeIntervalSince1970,
                event.remoteAddress, headers, Data(event.body), event.eventName, event.orderReference, event.status,
                event.parseError,
            ])!
        let id: Int64 = row["id"]
        guard (row["deliveries"] as Int) == 1 else { return .duplicate(id: id) }
        return .accepted(StoredEventSummary(id: id))
    }

    public func events(_ query: EventQuery) async throws -> [StoredEvent] {
        guard !isClosedNow else { throw StoreError.closed }
        return try await pool.read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let provider = query.provider {
                conditions.append("provider = ?")
                _ = arguments.append(contentsOf: [provider])
            }
            if query.failedOnly { conditions.append("(parse_error IS NOT NULL OR field_problems IS NOT NULL)") }
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            _ = arguments.append(contentsOf: [query.limit])
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM events \(whereClause) ORDER BY id DESC LIMIT ?", arguments: arguments)
            return rows.map(Self.storedEvent)
        }
    }

    /// Events in arrival order after `id`, for export (a page at a time, so memory stays flat).
    public func eventsAfter(id: Int64, provider: String?, since: Date?, limit: Int) async throws -> [StoredEvent] {
        guard !isClosedNow else { throw StoreError.closed }
        return try await pool.read { db in
            // Pruned and forgotten events have no body left to export.
            var sql = "SELECT * FROM events WHERE id > ? AND redacted_at IS NULL"
            var arguments: StatementArguments = [id]
            if let provider {
                sql += " AND provider = ?"
                _ = arguments.append(contentsOf: [provider])
            }
            if let since {
                sql += " AND received_at >= ?"
                _ = arguments.append(contentsOf: [since.timeIntervalSince1970])
            }
            sql += " ORDER BY id LIMIT ?"
            _ = arguments.append(contentsOf: [limit])
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.storedEvent)
        }
    }

    /// One stored event by id; nil when it was pruned.
    public func event(id: Int64) async throws -> StoredEvent? {
        guard !isClosedNow else { throw StoreError.closed }
        return try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM events WHERE id = ?", arguments: [id]).map(Self.storedEvent)
        }
    }

    /// Of each order, the oldest event not processed yet. No lease: one process uses the file (its
    /// one processor takes the events in turn), and a claim that wrote would cost a commit.
    public func claimEvents(now: Date, limit: Int, lease: TimeInterval) async throws -> [StoredEvent] {
        guard !isClosedNow else { throw StoreError.closed }
        return try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM events AS e
                    WHERE e.processed_at IS NULL AND NOT EXISTS (
                        SELECT 1 FROM events AS o
                        WHERE o.provider = e.provider AND o.order_reference = e.order_reference
                            AND o.processed_at IS NULL AND o.id < e.id)
                    ORDER BY e.id LIMIT ?
                    """, arguments: [limit]
            ).map(Self.storedEvent)
        }
    }

    /// The same for a batch of events, in one transaction (one fsync); returns, per event, whether
    /// each of its messages was inserted.
    public func completeProcessing(_ batch: [EventCompletion], at now: Date) async throws -> [[Bool]] {
        guard !isClosedNow else { throw StoreError.closed }
        return try await pool.write { db in
            var inserted: [[Bool]] = []
            for completion in batch {
                var flags: [Bool] = []
                for message in completion.messages {
                    flags.append(try Self.insertMessage(message, db: db) != nil)
                }
                // A decided event is marked processed with its decision: one row update, not two.
                let decided = try completion.decision.map {
                    try Self.store($0, eventID: completion.eventID, at: now, db: db)
                }
                if decided != true {
                    try db.cachedStatement(sql: "UPDATE events SET processed_at = ? WHERE id = ?")
                        .execute(arguments: [now.timeIntervalSince1970, completion.eventID])
                }
                inserted.append(flags)
            }
            return inserted
        }
    }

    /// Stores what the processor decided for an undecided event (marking it processed) and moves
    /// its order's state; false when the event was not undecided (nothing stored).
    @discardableResult
    static func store(_ decision: EventDecision, eventID: Int64, at now: Date, db: Database) throws -> Bool {
        try db.cachedStatement(
            sql: """
                UPDATE events SET event = ?, status = ?, previous_status = ?, occurred_at = ?, parse_error = ?,
                                  field_problems = ?, stale = ?, inherited = ?, undecided = 0, processed_at = ?
                WHERE id = ? AND undecided = 1
                """
        ).execute(
            arguments: [
                decision.eventName, decision.status, decision.previousStatus,
                decision.occurredAt?.timeIntervalSince1970, decision.parseError, decision.fieldProblems,
                decision.stale,
                decision.inherited.isEmpty ? nil : RememberedValue.json(decision.inherited).serialized(),
                now.timeIntervalSince1970, eventID,
            ])
        guard db.changesCount == 1 else { return false }
        guard let state = decision.order else { return true }
        try db.cachedStatement(
            sql: """
                INSERT INTO orders (provider, reference, status, occurred_at, event_id, updated_at, remembered)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (provider, reference) DO UPDATE SET
                    status = excluded.status, occurred_at = excluded.occurred_at,
                    event_id = excluded.event_id, updated_at = excluded.updated_at, remembered = excluded.remembered
                """
        ).execute(
            arguments: [
                state.provider, state.reference, state.status, state.occurredAt?.timeIntervalSince1970,
                state.eventID ?? eventID, now.timeIntervalSince1970,
                state.remembered.isEmpty ? nil : RememberedValue.json(state.remembered).serialized(),
            ])
        return true
    }

    /// Marks every event unprocessed again, as after a crash between writing messages and marking
    /// the event (for tests and recovery drills; the outbox's keys keep it harmless).
    func markUnprocessed() async throws {
        try await pool.write { db in try db.execute(sql: "UPDATE events SET processed_at = NULL") }
    }
}

extension SQLiteStore {
    /// Inserts `message` into the outbox unless its key is there already, or was pruned (`herald
    /// prune` deleted a message that went out once); returns its id, nil when not inserted. The
    /// one outbox insert: planning and a receipt's fallback both go through it.
    static func insertMessage(_ message: OutboxMessage, db: Database) throws -> Int64? {
        try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    INSERT INTO messages (idempotency_key, event_id, provider, order_reference, rule, channel,
                                          recipient, locale, text, encoding, segments, state, next_attempt_at,
                                          last_error, created_at, whatsapp)
                    SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
                    WHERE NOT EXISTS (SELECT 1 FROM pruned_keys WHERE idempotency_key = ?)
                    ON CONFLICT (idempotency_key) DO NOTHING
                    RETURNING id
                    """),
            arguments: [
                message.idempotencyKey, message.eventID, message.provider, message.orderReference, message.rule,
                message.channel, message.recipient, message.locale, message.text, message.encoding, message.segments,
                message.state.rawValue, message.nextAttemptAt?.timeIntervalSince1970, message.lastError,
                message.createdAt.timeIntervalSince1970, message.whatsapp?.json, message.idempotencyKey,
            ])?["id"]
    }
}
