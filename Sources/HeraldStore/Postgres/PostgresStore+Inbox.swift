import Foundation
import HeraldCore
import Logging
import PostgresNIO

/// Intake's events: recorded with their order state in one transaction, then processed into the outbox.
extension PostgresStore {
    /// The first key of the advisory locks that serialize writers of one order ("ORDR"); the
    /// second is the hash of its provider and reference.
    static let orderLockSpace: Int32 = 0x4F52_4452

    public func record(_ event: IncomingEvent) async throws -> RecordOutcome {
        guard !isClosedNow else { throw StoreError.closed }
        do {
            return try await committer.submit(event)
        } catch let error as StoreError {
            throw error
        } catch {
            // PostgresNIO's errors print a generic text; intake logs this one (no row values in it).
            throw StoreError("the database did not store the event: \(Self.reason(error))")
        }
    }

    /// Locks the orders `batch` moves until the transaction ends, so that two transactions
    /// (another instance's, or this one's outside the group committer) recording events of one
    /// order decide its state one after the other. An advisory lock rather than `SELECT … FOR
    /// UPDATE`: it also holds for an order that has no row yet. Taken in one order (by key), so
    /// two batches never wait for each other's locks.
    static func lockOrders(of batch: [IncomingEvent], on connection: BoundedConnection, logger: Logger)
        async throws
    {
        let keys = batch.compactMap { event -> String? in
            guard let reference = event.event?.order.reference ?? event.orderReference else { return nil }
            return event.provider + "\u{1F}" + reference
        }
        guard !keys.isEmpty else { return }
        _ = try await connection.query(
            """
            SELECT pg_advisory_xact_lock(\(orderLockSpace), h)
            FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest(\(keys)::text[]) AS k ORDER BY h) AS locks
            """, logger: logger
        )
    }

    /// Inserts one event inside the batch's transaction and moves the order state forward.
    static func insert(_ event: IncomingEvent, on connection: BoundedConnection, logger: Logger) async throws
        -> RecordOutcome
    {
        let headers = StoredHeaders.text(event.headers)
        let inserted = try await connection.query(
            """
            INSERT INTO events (provider, dedupe_key, delivery_id, received_at, remote_address, headers, body,
                                event, order_reference, status, previous_status, occurred_at, parse_error,
                                field_problems)
            VALUES (\(event.provider), \(event.dedupeKey), \(event.deliveryID),
                    \(event.receivedAt.timeIntervalSince1970), \(event.remoteAddress), \(headers),
                    \(ByteBuffer(bytes: event.body)), \(event.eventName),
                    \(event.orderReference), \(event.status), \(event.previousStatus),
                    \(event.occurredAt?.timeIntervalSince1970), \(event.parseError), \(event.fieldProblems))
            ON CONFLICT (provider, dedupe_key) DO UPDATE SET deliveries = events.deliveries + 1
            RETURNING id, deliveries
            """, logger: logger
        )
        guard let first = inserted.first else { throw StoreError("the event was not stored") }
        let (id, deliveries) = try first.decode((Int64, Int).self)
        guard deliveries == 1 else { return .duplicate(id: id) }
        guard let canonical = event.event, let profile = event.profile, let reference = canonical.order.reference,
            canonical.order.status != nil, event.parseError == nil
        else {
            return .accepted(StoredEventSummary(id: id, previousStatus: event.previousStatus, stale: false))
        }
        let known = try await connection.query(
            "SELECT * FROM orders WHERE provider = \(event.provider) AND reference = \(reference)", logger: logger
        ).first.map(Self.orderState)
        let source = ValueSource(from: "stored event \(id)", event: event.eventName)
        let decision = OrderDecision.decide(canonical, profile: profile, known: known, source: source)
        if decision.stale {
            try await connection.query("UPDATE events SET stale = TRUE WHERE id = \(id)", logger: logger)
        } else if decision.previousStatus != event.previousStatus || !decision.inherited.isEmpty {
            let inherited = decision.inherited.isEmpty ? nil : RememberedValue.json(decision.inherited).serialized()
            try await connection.query(
                """
                UPDATE events SET previous_status = \(decision.previousStatus), inherited = \(inherited)
                WHERE id = \(id)
                """, logger: logger)
        }
        if var state = decision.newState {
            if !decision.stale { state.eventID = id }
            let remembered = state.remembered.isEmpty ? nil : RememberedValue.json(state.remembered).serialized()
            try await connection.query(
                """
                INSERT INTO orders (provider, reference, status, occurred_at, event_id, updated_at, remembered)
                VALUES (\(event.provider), \(state.reference), \(state.status),
                        \(state.occurredAt?.timeIntervalSince1970), \(state.eventID ?? id),
                        \(event.receivedAt.timeIntervalSince1970), \(remembered))
                ON CONFLICT (provider, reference) DO UPDATE SET
                    status = excluded.status, occurred_at = excluded.occurred_at,
                    event_id = excluded.event_id, updated_at = excluded.updated_at, remembered = excluded.remembered
                """, logger: logger)
        }
        return .accepted(StoredEventSummary(id: id, previousStatus: decision.previousStatus, stale: decision.stale))
    }

    public func events(_ query: EventQuery) async throws -> [StoredEvent] {
        guard !isClosedNow else { throw StoreError.closed }
        return try await rows(
            """
            SELECT * FROM events
            WHERE (\(query.provider)::text IS NULL OR provider = \(query.provider))
                AND (NOT \(query.failedOnly) OR parse_error IS NOT NULL OR field_problems IS NOT NULL)
            ORDER BY id DESC LIMIT \(query.limit)
            """
        ).map(Self.storedEvent)
    }

    /// Events in arrival order after `id`, for export (a page at a time, so memory stays flat).
    public func eventsAfter(id: Int64, provider: String?, since: Date?, limit: Int) async throws -> [StoredEvent] {
        guard !isClosedNow else { throw StoreError.closed }
        // Pruned and forgotten events have no body left to export.
        let since = since?.timeIntervalSince1970
        return try await rows(
            """
            SELECT * FROM events
            WHERE id > \(id) AND redacted_at IS NULL AND (\(provider)::text IS NULL OR provider = \(provider))
                AND (\(since)::float8 IS NULL OR received_at >= \(since))
            ORDER BY id LIMIT \(limit)
            """
        ).map(Self.storedEvent)
    }

    /// One stored event by id; nil when it was pruned.
    public func event(id: Int64) async throws -> StoredEvent? {
        guard !isClosedNow else { throw StoreError.closed }
        return try await rows("SELECT * FROM events WHERE id = \(id)").first.map(Self.storedEvent)
    }

    /// Claims the oldest unprocessed event of each order under a lease (`claimed_until`), skipping
    /// rows another claim is locking: two instances claiming at once take different events, and
    /// neither takes a later event of an order whose earlier one is still in anyone's hands.
    ///
    /// This store's own earlier claims are taken again at once (`claimed_by`): its one processor
    /// claims a batch at a time, so a claim of its own still standing is one whose answer it never
    /// got (the connection was lost after the commit), not events it is working on. Without that
    /// they would wait for the lease after every lost connection.
    public func claimEvents(now: Date, limit: Int, lease: TimeInterval) async throws -> [StoredEvent] {
        guard !isClosedNow else { throw StoreError.closed }
        let now = now.timeIntervalSince1970
        let until = now + lease
        return try await rows(
            """
            UPDATE events SET claimed_until = \(until), claimed_by = \(instanceID)
            WHERE id IN (
                SELECT e.id FROM events AS e
                WHERE e.processed_at IS NULL
                    AND (e.claimed_until IS NULL OR e.claimed_until <= \(now) OR e.claimed_by = \(instanceID))
                    AND NOT EXISTS (
                        SELECT 1 FROM events AS o
                        WHERE o.provider = e.provider AND o.order_reference = e.order_reference
                            AND o.processed_at IS NULL AND o.id < e.id)
                ORDER BY e.id LIMIT \(limit)
                FOR UPDATE OF e SKIP LOCKED)
            RETURNING *
            """
        ).map(Self.storedEvent).sorted { $0.id < $1.id }
    }

    /// The same for a batch of events, in one transaction; returns, per event, whether each of its
    /// messages was inserted.
    public func completeProcessing(_ batch: [(eventID: Int64, messages: [OutboxMessage])], at now: Date) async throws
        -> [[Bool]]
    {
        guard !isClosedNow else { throw StoreError.closed }
        let logger = self.logger
        return try await transaction { connection in
            var inserted: [[Bool]] = []
            for (eventID, messages) in batch {
                var flags: [Bool] = []
                for message in messages {
                    flags.append(try await Self.insertMessage(message, on: connection, logger: logger) != nil)
                }
                try await connection.query(
                    "UPDATE events SET processed_at = \(now.timeIntervalSince1970) WHERE id = \(eventID)",
                    logger: logger)
                inserted.append(flags)
            }
            if inserted.joined().contains(true) {
                try await Self.notify(.messagesQueued, channel: self.channel, on: connection, logger: logger)
            }
            return inserted
        }
    }
}

extension PostgresStore {
    /// Inserts `message` into the outbox unless its key is there already, or is in `pruned_keys` (a
    /// message pruned in the SQLite file `herald copy` brought over: it went out once); returns its
    /// id, nil when not inserted. The one outbox insert: planning and a receipt's fallback both go
    /// through it.
    static func insertMessage(_ message: OutboxMessage, on connection: BoundedConnection, logger: Logger)
        async throws -> Int64?
    {
        let message = message.storableInPostgres
        return try await connection.query(
            """
            INSERT INTO messages (idempotency_key, event_id, provider, order_reference, rule, channel, recipient,
                                  locale, text, encoding, segments, state, next_attempt_at, last_error, created_at,
                                  whatsapp)
            SELECT \(message.idempotencyKey), \(message.eventID), \(message.provider), \(message.orderReference),
                   \(message.rule), \(message.channel), \(message.recipient), \(message.locale), \(message.text),
                   \(message.encoding), \(message.segments), \(message.state.rawValue),
                   \(message.nextAttemptAt?.timeIntervalSince1970), \(message.lastError),
                   \(message.createdAt.timeIntervalSince1970), \(message.whatsapp?.json)
            WHERE NOT EXISTS (SELECT 1 FROM pruned_keys WHERE idempotency_key = \(message.idempotencyKey))
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING id
            """, logger: logger
        ).first?.decode(Int64.self)
    }
}
