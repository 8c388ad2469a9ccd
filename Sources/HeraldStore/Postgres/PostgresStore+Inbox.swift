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

    /// Inserts a batch of events, undecided, in one statement, and tells the other instances
    /// (`eventsRecorded`); returns each event's outcome, in order. An event whose dedupe key is
    /// stored already, or came earlier in the batch, is a duplicate: its deliveries are counted.
    static func insert(_ batch: [IncomingEvent], channel: String, on connection: BoundedConnection, logger: Logger)
        async throws -> [RecordOutcome]
    {
        guard !batch.isEmpty else { return [] }
        var counts: [EventKey: Int] = [:]
        for event in batch { counts[EventKey(event), default: 0] += 1 }
        var rows = PostgresRecordSet()
        var added: Set<EventKey> = []
        for event in batch where added.insert(EventKey(event)).inserted {
            rows.append([
                ("provider", .text(event.provider)), ("dedupe_key", .text(event.dedupeKey)),
                ("delivery_id", .text(event.deliveryID)),
                ("received_at", .real(event.receivedAt.timeIntervalSince1970)),
                ("remote_address", .text(event.remoteAddress)), ("headers", .text(StoredHeaders.text(event.headers))),
                ("body", .text(Data(event.body).base64EncodedString())), ("event", .text(event.eventName)),
                ("order_reference", .text(event.orderReference)), ("status", .text(event.status)),
                ("parse_error", .text(event.parseError)), ("n", .integer(Int64(counts[EventKey(event)] ?? 1))),
            ])
        }
        // A new row starts with the batch's deliveries of it: more means it was stored before.
        var bindings = PostgresBindings()
        bindings.append(rows.json)
        bindings.append(channel)
        bindings.append(StoreChange.eventsRecorded.rawValue)
        let returned = try await connection.execute(Prepared<InsertEvents>(bindings), logger: logger)
        var stored: [EventKey: (id: Int64, deliveries: Int)] = [:]
        for row in returned {
            let (id, deliveries, provider, dedupeKey) = try row.decode((Int64, Int, String, String).self)
            stored[EventKey(provider: provider, dedupeKey: dedupeKey)] = (id, deliveries)
        }
        var firsts: Set<EventKey> = []
        return try batch.map { event in
            let key = EventKey(event)
            guard let row = stored[key] else { throw StoreError("the event was not stored") }
            let new = row.deliveries == counts[key] && firsts.insert(key).inserted
            return new ? .accepted(StoredEventSummary(id: row.id)) : .duplicate(id: row.id)
        }
    }

    enum InsertEvents: PreparedSQL {
        static let sql = """
            WITH stored AS (
                INSERT INTO events (provider, dedupe_key, delivery_id, received_at, remote_address, headers, body,
                                    event, order_reference, status, parse_error, undecided, deliveries)
                SELECT d.provider, d.dedupe_key, d.delivery_id, d.received_at, d.remote_address, d.headers,
                       decode(d.body, 'base64'), d.event, d.order_reference, d.status, d.parse_error, TRUE, d.n
                FROM json_to_recordset($1::json) AS d (
                    provider text, dedupe_key text, delivery_id text, received_at float8, remote_address text,
                    headers text, body text, event text, order_reference text, status text, parse_error text, n int4)
                ON CONFLICT (provider, dedupe_key) DO UPDATE SET deliveries = events.deliveries + excluded.deliveries
                RETURNING id, deliveries, provider, dedupe_key
            )
            SELECT s.id, s.deliveries, s.provider, s.dedupe_key FROM stored AS s
            CROSS JOIN (SELECT pg_notify($2::text, $3::text)) AS told
            """
    }

    /// An event as the inbox deduplicates it.
    struct EventKey: Hashable {
        var provider: String
        var dedupeKey: String

        init(provider: String, dedupeKey: String) {
            self.provider = provider
            self.dedupeKey = dedupeKey
        }

        init(_ event: IncomingEvent) { self.init(provider: event.provider, dedupeKey: event.dedupeKey) }
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
        var bindings = PostgresBindings()
        bindings.append(now + lease)
        bindings.append(instanceID)
        bindings.append(now)
        bindings.append(Int64(limit))
        return try await rows(Prepared<ClaimEvents>(bindings)).map(Self.storedEvent).sorted { $0.id < $1.id }
    }

    enum ClaimEvents: PreparedSQL {
        static let sql = """
            UPDATE events SET claimed_until = $1, claimed_by = $2
            WHERE id IN (
                SELECT e.id FROM events AS e
                WHERE e.processed_at IS NULL
                    AND (e.claimed_until IS NULL OR e.claimed_until <= $3 OR e.claimed_by = $2)
                    AND NOT EXISTS (
                        SELECT 1 FROM events AS o
                        WHERE o.provider = e.provider AND o.order_reference = e.order_reference
                            AND o.processed_at IS NULL AND o.id < e.id)
                ORDER BY e.id LIMIT $4
                FOR UPDATE OF e SKIP LOCKED)
            RETURNING \(PreparedColumns.events)
            """
    }

    /// The same for a batch of events, in one statement whatever the batch's size (atomic on its
    /// own: no BEGIN and COMMIT round trips); returns, per event, whether each of its messages was
    /// inserted.
    public func completeProcessing(_ batch: [EventCompletion], at now: Date) async throws -> [[Bool]] {
        guard !isClosedNow else { throw StoreError.closed }
        let messages = batch.flatMap(\.messages)
        let query = Self.completion(
            messages: messages,
            decided: batch.compactMap { completion in
                completion.decision.map { (eventID: completion.eventID, decision: $0.storableInPostgres) }
            },
            plain: batch.filter { $0.decision == nil }.map(\.eventID), at: now, channel: channel)
        let ids = try Self.insertedIDs(of: messages, from: try await rows(query))
        var next = ids.makeIterator()
        return batch.map { completion in completion.messages.map { _ in next.next()! != nil } }
    }
}

extension PostgresStore {
    /// Inserts `messages` into the outbox except those whose key is there already, or is in
    /// `pruned_keys` (a message pruned in the SQLite file `herald copy` brought over: it went out
    /// once); returns each one's id, nil when not inserted (a key twice in `messages`: the first).
    /// A receipt's fallback comes here, planning through `completeProcessing`: both run the one
    /// outbox insert, `completion`'s. The caller tells the other instances (`notifyFallbacks`).
    static func insertMessages(_ messages: [OutboxMessage], on connection: BoundedConnection, logger: Logger)
        async throws -> [Int64?]
    {
        guard !messages.isEmpty else { return [] }
        let query = completion(messages: messages, decided: [], plain: [], at: Date(), channel: nil)
        return try insertedIDs(of: messages, from: try await connection.execute(query, logger: logger))
    }

    /// One statement completing a batch: the messages inserted (the one outbox insert), what the
    /// processor decided for undecided events stored (and those events marked processed), the
    /// orders they move (unless another instance completed the event meanwhile, its claim's lease
    /// having run out: the claims hand one order's events out one at a time, so the states read
    /// are still current), the `plain` events (nothing decided) marked processed, and the other
    /// instances told on `channel` (unless nil) when a message was inserted. Its rows: each
    /// inserted message's id and key.
    static func completion(
        messages: [OutboxMessage], decided: [(eventID: Int64, decision: EventDecision)], plain: [Int64], at now: Date,
        channel: String?
    ) -> Prepared<Completion> {
        let moment = now.timeIntervalSince1970
        var rows = PostgresRecordSet()
        for original in messages {
            let message = original.storableInPostgres
            rows.append([
                ("idempotency_key", .text(message.idempotencyKey)), ("event_id", .integer(message.eventID)),
                ("provider", .text(message.provider)), ("order_reference", .text(message.orderReference)),
                ("rule", .text(message.rule)), ("channel", .text(message.channel)),
                ("recipient", .text(message.recipient)), ("locale", .text(message.locale)),
                ("text", .text(message.text)), ("encoding", .text(message.encoding)),
                ("segments", .integer(message.segments.map(Int64.init))), ("state", .text(message.state.rawValue)),
                ("next_attempt_at", .real(message.nextAttemptAt?.timeIntervalSince1970)),
                ("last_error", .text(message.lastError)),
                ("created_at", .real(message.createdAt.timeIntervalSince1970)),
                ("whatsapp", .text(message.whatsapp?.json)),
            ])
        }
        var events = PostgresRecordSet()
        var orders = PostgresRecordSet()
        // One state per order (a claim holds one event per order; were there two, the later wins).
        var moved: Set<OrderKey> = []
        for (eventID, decision) in decided.sorted(by: { $0.eventID > $1.eventID }) {
            let inherited = decision.inherited.isEmpty ? nil : RememberedValue.json(decision.inherited).serialized()
            events.append([
                ("id", .integer(eventID)), ("event", .text(decision.eventName)), ("status", .text(decision.status)),
                ("previous_status", .text(decision.previousStatus)),
                ("occurred_at", .real(decision.occurredAt?.timeIntervalSince1970)),
                ("parse_error", .text(decision.parseError)), ("field_problems", .text(decision.fieldProblems)),
                ("stale", .bool(decision.stale)), ("inherited", .text(inherited)),
            ])
            guard let state = decision.order,
                moved.insert(OrderKey(provider: state.provider, reference: state.reference)).inserted
            else { continue }
            let remembered = state.remembered.isEmpty ? nil : RememberedValue.json(state.remembered).serialized()
            orders.append([
                ("provider", .text(state.provider)), ("reference", .text(state.reference)),
                ("status", .text(state.status)), ("occurred_at", .real(state.occurredAt?.timeIntervalSince1970)),
                ("event_id", .integer(state.eventID ?? eventID)), ("remembered", .text(remembered)),
                ("decided_by", .integer(eventID)),
            ])
        }
        var bindings = PostgresBindings()
        bindings.append(moment)
        bindings.append(events.json)
        bindings.append(orders.json)
        bindings.append(plain)
        bindings.append(rows.json)
        bindings.append(channel)
        bindings.append(StoreChange.messagesQueued.rawValue)
        return Prepared(bindings)
    }

    enum Completion: PreparedSQL {
        static let sql = """
            WITH decided AS (
                UPDATE events AS e SET event = d.event, status = d.status, previous_status = d.previous_status,
                    occurred_at = d.occurred_at, parse_error = d.parse_error, field_problems = d.field_problems,
                    stale = d.stale, inherited = d.inherited, undecided = FALSE, processed_at = $1
                FROM json_to_recordset($2::json) AS d (
                    id int8, event text, status text, previous_status text, occurred_at float8, parse_error text,
                    field_problems text, stale bool, inherited text)
                WHERE e.id = d.id AND e.undecided
                RETURNING e.id
            ), moved AS (
                INSERT INTO orders (provider, reference, status, occurred_at, event_id, updated_at, remembered)
                SELECT o.provider, o.reference, o.status, o.occurred_at, o.event_id, $1, o.remembered
                FROM json_to_recordset($3::json) AS o (
                    provider text, reference text, status text, occurred_at float8, event_id int8, remembered text,
                    decided_by int8)
                WHERE o.decided_by IN (SELECT id FROM decided)
                ON CONFLICT (provider, reference) DO UPDATE SET
                    status = excluded.status, occurred_at = excluded.occurred_at,
                    event_id = excluded.event_id, updated_at = excluded.updated_at, remembered = excluded.remembered
            ), marked AS (
                UPDATE events SET processed_at = $1
                WHERE id = ANY($4::int8[]) AND processed_at IS NULL
            ), inserted AS (
                INSERT INTO messages (idempotency_key, event_id, provider, order_reference, rule, channel, recipient,
                                      locale, text, encoding, segments, state, next_attempt_at, last_error,
                                      created_at, whatsapp)
                SELECT m.idempotency_key, m.event_id, m.provider, m.order_reference, m.rule, m.channel, m.recipient,
                       m.locale, m.text, m.encoding, m.segments, m.state, m.next_attempt_at, m.last_error,
                       m.created_at, m.whatsapp
                FROM json_to_recordset($5::json) AS m (
                    idempotency_key text, event_id int8, provider text, order_reference text, rule text,
                    channel text, recipient text, locale text, text text, encoding text, segments int4, state text,
                    next_attempt_at float8, last_error text, created_at float8, whatsapp text)
                WHERE NOT EXISTS (SELECT 1 FROM pruned_keys AS p WHERE p.idempotency_key = m.idempotency_key)
                ON CONFLICT (idempotency_key) DO NOTHING
                RETURNING id, idempotency_key
            ), told AS (
                SELECT pg_notify($6::text, $7::text) AS sent
                FROM (SELECT 1 FROM inserted LIMIT 1) AS any_inserted WHERE $6::text IS NOT NULL
            )
            SELECT i.id, i.idempotency_key, (SELECT count(*) FROM told) AS told FROM inserted AS i
            """
    }

    /// Each message's id from a completion's rows, nil when it was not inserted (the first of
    /// a key twice gets the id).
    static func insertedIDs(of messages: [OutboxMessage], from rows: [PostgresRow]) throws -> [Int64?] {
        var ids: [String: Int64] = [:]
        for row in rows {
            let (id, key, _) = try row.decode((Int64, String, Int64).self)
            ids[key] = id
        }
        return messages.map { ids.removeValue(forKey: $0.storableInPostgres.idempotencyKey) }
    }
}
