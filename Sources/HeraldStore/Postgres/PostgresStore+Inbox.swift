import Foundation
import HeraldCore
import Logging
import PostgresNIO

/// Intake's events: recorded undecided, then processed into the outbox with their order state.
extension PostgresStore {
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

    /// Inserts one event, undecided, inside the batch's transaction.
    static func insert(_ event: IncomingEvent, on connection: BoundedConnection, logger: Logger) async throws
        -> RecordOutcome
    {
        let headers = StoredHeaders.text(event.headers)
        let inserted = try await connection.query(
            """
            INSERT INTO events (provider, dedupe_key, delivery_id, received_at, remote_address, headers, body,
                                event, order_reference, status, parse_error, undecided)
            VALUES (\(event.provider), \(event.dedupeKey), \(event.deliveryID),
                    \(event.receivedAt.timeIntervalSince1970), \(event.remoteAddress), \(headers),
                    \(ByteBuffer(bytes: event.body)), \(event.eventName),
                    \(event.orderReference), \(event.status), \(event.parseError), TRUE)
            ON CONFLICT (provider, dedupe_key) DO UPDATE SET deliveries = events.deliveries + 1
            RETURNING id, deliveries
            """, logger: logger
        )
        guard let first = inserted.first else { throw StoreError("the event was not stored") }
        let (id, deliveries) = try first.decode((Int64, Int).self)
        guard deliveries == 1 else { return .duplicate(id: id) }
        return .accepted(StoredEventSummary(id: id))
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
    public func completeProcessing(_ batch: [EventCompletion], at now: Date) async throws -> [[Bool]] {
        guard !isClosedNow else { throw StoreError.closed }
        let logger = self.logger
        return try await transaction { connection in
            var inserted: [[Bool]] = []
            for completion in batch {
                var flags: [Bool] = []
                for message in completion.messages {
                    flags.append(try await Self.insertMessage(message, on: connection, logger: logger) != nil)
                }
                if let decision = completion.decision {
                    try await Self.store(
                        decision.storableInPostgres, eventID: completion.eventID, at: now, on: connection,
                        logger: logger)
                }
                try await connection.query(
                    "UPDATE events SET processed_at = \(now.timeIntervalSince1970) WHERE id = \(completion.eventID)",
                    logger: logger)
                inserted.append(flags)
            }
            if inserted.joined().contains(true) {
                try await Self.notify(.messagesQueued, channel: self.channel, on: connection, logger: logger)
            }
            return inserted
        }
    }

    /// Stores what the processor decided for an undecided event and moves its order's state,
    /// unless another instance completed the event meanwhile (its claim's lease ran out): the
    /// claims hand one order's events out one at a time, so the state it read is still current.
    static func store(
        _ decision: EventDecision, eventID: Int64, at now: Date, on connection: BoundedConnection, logger: Logger
    ) async throws {
        let inherited = decision.inherited.isEmpty ? nil : RememberedValue.json(decision.inherited).serialized()
        let updated = try await connection.query(
            """
            UPDATE events SET event = \(decision.eventName), status = \(decision.status),
                              previous_status = \(decision.previousStatus),
                              occurred_at = \(decision.occurredAt?.timeIntervalSince1970),
                              parse_error = \(decision.parseError), field_problems = \(decision.fieldProblems),
                              stale = \(decision.stale), inherited = \(inherited), undecided = FALSE
            WHERE id = \(eventID) AND undecided
            RETURNING id
            """, logger: logger
        )
        guard updated.first != nil, let state = decision.order else { return }
        let remembered = state.remembered.isEmpty ? nil : RememberedValue.json(state.remembered).serialized()
        try await connection.query(
            """
            INSERT INTO orders (provider, reference, status, occurred_at, event_id, updated_at, remembered)
            VALUES (\(state.provider), \(state.reference), \(state.status), \(state.occurredAt?.timeIntervalSince1970),
                    \(state.eventID ?? eventID), \(now.timeIntervalSince1970), \(remembered))
            ON CONFLICT (provider, reference) DO UPDATE SET
                status = excluded.status, occurred_at = excluded.occurred_at,
                event_id = excluded.event_id, updated_at = excluded.updated_at, remembered = excluded.remembered
            """, logger: logger)
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
