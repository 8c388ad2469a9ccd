import Foundation
import GRDB
import HeraldCore
import Synchronization

/// The embedded store: one SQLite file in WAL mode with `synchronous=FULL`, so a commit is on
/// disk when it returns.
///
/// Writes from concurrent requests are grouped: while one transaction is committing, new events
/// queue up and go into the next one together, so throughput is not capped at one fsync per
/// request while every acknowledged event is still durable.
public final class SQLiteStore: Store {
    public let path: String
    let pool: DatabasePool
    private let committer: GroupCommitter<IncomingEvent, RecordOutcome>
    private let isClosed = Atomic<Bool>(false)
    private let transactions = Counter()
    private let checkpointer: Checkpointer

    /// Whether `close()` was called: every query then throws `StoreError.closed`.
    var isClosedNow: Bool { isClosed.load(ordering: .acquiring) }

    /// Write transactions committed since opening; with group commit, fewer than events recorded.
    public var transactionCount: Int { transactions.value.load(ordering: .relaxed) }

    /// Opens (creating if needed) the database at `path` and migrates it.
    public init(path: String) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            let example = URL(fileURLWithPath: path).appendingPathComponent("herald.sqlite").path
            throw StoreError("it is a directory, not an SQLite file (give the file's path, e.g. \(example))")
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let pool = try DatabasePool(path: path, configuration: configuration)
        // Set on the single writer connection once WAL is on (switching to WAL would reset it):
        // with FULL, every commit is fsynced before the write returns.
        // No checkpoint inside a commit: the writer would stall every request queued behind it
        // while the WAL is copied and the database file synced. The checkpointer does it aside.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
        }
        try Self.migrator.migrate(pool)
        self.pool = pool
        self.checkpointer = try Checkpointer(path: path)
        let transactions = self.transactions
        self.committer = GroupCommitter { batch in
            let outcomes = try await pool.write { db in try batch.map { try Self.insert($0, db: db) } }
            transactions.value.add(1, ordering: .relaxed)
            return outcomes
        }
    }

    public func record(_ event: IncomingEvent) async throws -> RecordOutcome {
        guard !isClosed.load(ordering: .acquiring) else { throw StoreError.closed }
        return try await committer.submit(event)
    }

    public func ping() async throws {
        guard !isClosed.load(ordering: .acquiring) else { throw StoreError.closed }
        _ = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    public func close() async throws {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        await committer.drain()
        await checkpointer.stop()
        try pool.close()
    }

    public func events(_ query: EventQuery) async throws -> [StoredEvent] {
        guard !isClosed.load(ordering: .acquiring) else { throw StoreError.closed }
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
        guard !isClosed.load(ordering: .acquiring) else { throw StoreError.closed }
        return try await pool.read { db in
            var sql = "SELECT * FROM events WHERE id > ?"
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

    /// Every order's last known status (for `herald dry-run --db`).
    public func orderStates() async throws -> [OrderState] {
        guard !isClosed.load(ordering: .acquiring) else { throw StoreError.closed }
        return try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM orders ORDER BY provider, reference").map(Self.orderState)
        }
    }

    /// Opens an existing database without creating or migrating anything; for read-only tools.
    public static func openExisting(path: String) throws -> SQLiteStore {
        guard FileManager.default.fileExists(atPath: path) else { throw StoreError("no store at \(path)") }
        return try SQLiteStore(path: path)
    }

    /// The value of a PRAGMA on the writer connection, for checks of durability settings.
    func pragma(_ name: String) async throws -> String? {
        try await pool.write { db in try String.fetchOne(db, sql: "PRAGMA \(name)") }
    }

    public func orderState(provider: String, reference: String) async throws -> OrderState? {
        guard !isClosed.load(ordering: .acquiring) else { throw StoreError.closed }
        return try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM orders WHERE provider = ? AND reference = ?", arguments: [provider, reference]
            ).map(Self.orderState)
        }
    }

    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-events-orders") { db in
            try db.execute(
                sql: """
                    CREATE TABLE events (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        provider TEXT NOT NULL,
                        dedupe_key TEXT NOT NULL,
                        delivery_id TEXT,
                        received_at REAL NOT NULL,
                        remote_address TEXT,
                        headers TEXT NOT NULL,
                        body BLOB NOT NULL,
                        event TEXT,
                        order_reference TEXT,
                        status TEXT,
                        previous_status TEXT,
                        occurred_at REAL,
                        parse_error TEXT,
                        stale INTEGER NOT NULL DEFAULT 0,
                        deliveries INTEGER NOT NULL DEFAULT 1,
                        processed_at REAL,
                        UNIQUE (provider, dedupe_key)
                    );
                    CREATE INDEX events_unprocessed ON events(id) WHERE processed_at IS NULL;
                    CREATE INDEX events_order ON events(provider, order_reference);
                    CREATE TABLE orders (
                        provider TEXT NOT NULL,
                        reference TEXT NOT NULL,
                        status TEXT NOT NULL,
                        occurred_at REAL,
                        event_id INTEGER NOT NULL REFERENCES events(id),
                        updated_at REAL NOT NULL,
                        PRIMARY KEY (provider, reference)
                    );
                    """)
        }
        migrator.registerMigration("v2-outbox") { db in
            try db.execute(
                sql: """
                    CREATE TABLE messages (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        idempotency_key TEXT NOT NULL UNIQUE,
                        event_id INTEGER NOT NULL REFERENCES events(id),
                        provider TEXT NOT NULL,
                        order_reference TEXT,
                        rule TEXT NOT NULL,
                        channel TEXT NOT NULL,
                        recipient TEXT NOT NULL,
                        locale TEXT NOT NULL,
                        text TEXT NOT NULL,
                        encoding TEXT,
                        segments INTEGER,
                        state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'held')),
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at REAL,
                        lease_expires_at REAL,
                        last_error TEXT,
                        provider_message_id TEXT,
                        created_at REAL NOT NULL,
                        sent_at REAL
                    );
                    CREATE INDEX messages_due ON messages(state, next_attempt_at);
                    CREATE INDEX messages_order ON messages(order_reference);
                    """)
        }
        migrator.registerMigration("v3-outbox-whatsapp") { db in
            try db.execute(sql: "ALTER TABLE messages ADD COLUMN whatsapp TEXT")
        }
        migrator.registerMigration("v4-events-field-problems") { db in
            try db.execute(sql: "ALTER TABLE events ADD COLUMN field_problems TEXT")
        }
        // What an order remembers of its customer and itself (JSON of `RememberedValue`s), and
        // what each event inherited from it when stored, so the processor plans from the order
        // as it was at that event, not as later events left it.
        migrator.registerMigration("v5-order-memory") { db in
            try db.execute(sql: "ALTER TABLE orders ADD COLUMN remembered TEXT")
            try db.execute(sql: "ALTER TABLE events ADD COLUMN inherited TEXT")
        }
        // Every state DESIGN.md names may be stored (v2's CHECK knew five): SQLite cannot alter a
        // CHECK, so the table is rebuilt with the same columns, rows and indexes.
        migrator.registerMigration("v6-message-states") { db in
            // Written out, not taken from `OutboxMessage.State`: a migration never changes once shipped.
            let states = """
                'pending', 'sending', 'unknown', 'sent', 'delivered', 'read', 'undelivered', 'failed', 'held',
                'suppressed'
                """
            let columns = """
                id, idempotency_key, event_id, provider, order_reference, rule, channel, recipient, locale, text,
                encoding, segments, state, attempts, next_attempt_at, lease_expires_at, last_error,
                provider_message_id, created_at, sent_at, whatsapp
                """
            try db.execute(
                sql: """
                    CREATE TABLE messages_v6 (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        idempotency_key TEXT NOT NULL UNIQUE,
                        event_id INTEGER NOT NULL REFERENCES events(id),
                        provider TEXT NOT NULL,
                        order_reference TEXT,
                        rule TEXT NOT NULL,
                        channel TEXT NOT NULL,
                        recipient TEXT NOT NULL,
                        locale TEXT NOT NULL,
                        text TEXT NOT NULL,
                        encoding TEXT,
                        segments INTEGER,
                        state TEXT NOT NULL CHECK (state IN (\(states))),
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at REAL,
                        lease_expires_at REAL,
                        last_error TEXT,
                        provider_message_id TEXT,
                        created_at REAL NOT NULL,
                        sent_at REAL,
                        whatsapp TEXT
                    );
                    INSERT INTO messages_v6 (\(columns)) SELECT \(columns) FROM messages;
                    DROP TABLE messages;
                    ALTER TABLE messages_v6 RENAME TO messages;
                    CREATE INDEX messages_due ON messages(state, next_attempt_at);
                    CREATE INDEX messages_order ON messages(order_reference);
                    """)
        }
        // The numbers Herald sends nothing to (`Suppression`); channel NULL: every channel. One
        // entry per number and scope.
        migrator.registerMigration("v7-suppressions") { db in
            try db.execute(
                sql: """
                    CREATE TABLE suppressions (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        number TEXT NOT NULL,
                        channel TEXT,
                        reason TEXT NOT NULL,
                        source TEXT NOT NULL,
                        created_at REAL NOT NULL
                    );
                    CREATE UNIQUE INDEX suppressions_scope ON suppressions(number, IFNULL(channel, ''));
                    """)
        }
        // When the last send attempt started, for the Twilio lookup of an unknown outcome (v6
        // already allows the `unknown` state).
        migrator.registerMigration("v8-outbox-attempted-at") { db in
            try db.execute(sql: "ALTER TABLE messages ADD COLUMN attempted_at REAL")
        }
        return migrator
    }()

    // MARK: Dispatch

    /// Claims up to `limit` due messages under a lease: pending ones whose time has come, and
    /// `sending` ones whose lease expired (a dispatcher died mid-send; `recovered` is true for
    /// those: their outcome is unknown).
    public func claimDue(now: Date, limit: Int, lease: TimeInterval) async throws -> [(message: OutboxMessage, recovered: Bool)] {
        guard !isClosed.load(ordering: .acquiring) else { throw StoreError.closed }
        let moment = now.timeIntervalSince1970
        return try await pool.write { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: """
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
        guard !isClosed.load(ordering: .acquiring) else { throw StoreError.closed }
        let moment = now.timeIntervalSince1970
        return try await pool.write { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: """
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

    /// Records a batch of send outcomes in one transaction.
    public func record(_ updates: [(messageID: Int64, update: DeliveryUpdate, refundAttempt: Bool)], at now: Date) async throws {
        guard !isClosed.load(ordering: .acquiring) else { throw StoreError.closed }
        try await pool.write { db in
            for (messageID, update, refundAttempt) in updates {
            try db.cachedStatement(sql: """
                UPDATE messages SET state = ?, next_attempt_at = ?, last_error = ?,
                    provider_message_id = COALESCE(?, provider_message_id), channel = COALESCE(?, channel),
                    recipient = COALESCE(?, recipient), lease_expires_at = NULL,
                    sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END,
                    attempts = attempts - ?
                WHERE id = ?
                """
            ).execute(arguments: [
                update.state.rawValue, update.nextAttemptAt?.timeIntervalSince1970, update.lastError, update.providerMessageID,
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
        guard !isClosed.load(ordering: .acquiring) else { throw StoreError.closed }
        return try await pool.write { db in
            var released: [Int64] = []
            for id in ids {
                try db.cachedStatement(sql: """
                    UPDATE messages SET state = 'pending', next_attempt_at = ?, attempts = 0
                    WHERE id = ? AND (state IN ('failed', 'held') OR (? AND state = 'unknown'))
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
        guard !isClosed.load(ordering: .acquiring) else { throw StoreError.closed }
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

    /// One stored event by id; nil when it was pruned.
    public func event(id: Int64) async throws -> StoredEvent? {
        guard !isClosed.load(ordering: .acquiring) else { throw StoreError.closed }
        return try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM events WHERE id = ?", arguments: [id]).map(Self.storedEvent)
        }
    }

    // MARK: Processing

    /// Verified events not processed yet, in arrival order.
    public func unprocessedEvents(limit: Int) async throws -> [StoredEvent] {
        guard !isClosed.load(ordering: .acquiring) else { throw StoreError.closed }
        return try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM events WHERE processed_at IS NULL ORDER BY id LIMIT ?", arguments: [limit]
            ).map(Self.storedEvent)
        }
    }

    /// The same for a batch of events, in one transaction (one fsync); returns the count inserted per event.
    public func completeProcessing(_ batch: [(eventID: Int64, messages: [OutboxMessage])], at now: Date) async throws -> [Int] {
        guard !isClosed.load(ordering: .acquiring) else { throw StoreError.closed }
        return try await pool.write { db in
            var counts: [Int] = []
            for (eventID, messages) in batch {
                var inserted = 0
                for message in messages {
                    try db.cachedStatement(
                        sql: """
                            INSERT INTO messages (idempotency_key, event_id, provider, order_reference, rule, channel,
                                                  recipient, locale, text, encoding, segments, state, next_attempt_at,
                                                  last_error, created_at, whatsapp)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            ON CONFLICT (idempotency_key) DO NOTHING
                            """
                    ).execute(arguments: [
                        message.idempotencyKey, message.eventID, message.provider, message.orderReference, message.rule,
                        message.channel, message.recipient, message.locale, message.text, message.encoding, message.segments,
                        message.state.rawValue, message.nextAttemptAt?.timeIntervalSince1970, message.lastError,
                        message.createdAt.timeIntervalSince1970, message.whatsapp?.json,
                    ])
                    inserted += db.changesCount
                }
                try db.cachedStatement(sql: "UPDATE events SET processed_at = ? WHERE id = ?")
                    .execute(arguments: [now.timeIntervalSince1970, eventID])
                counts.append(inserted)
            }
            return counts
        }
    }

    /// How many messages are in each state, and events waiting to be processed (for /metrics).
    public func queueDepths() async throws -> (messages: [OutboxMessage.State: Int], unprocessedEvents: Int) {
        guard !isClosed.load(ordering: .acquiring) else { throw StoreError.closed }
        return try await pool.read { db in
            var counts: [OutboxMessage.State: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM messages GROUP BY state") {
                if let state = OutboxMessage.State(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            let waiting = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM events WHERE processed_at IS NULL") ?? 0
            return (counts, waiting)
        }
    }

    /// Marks every event unprocessed again, as after a crash between writing messages and marking
    /// the event (for tests and recovery drills; the outbox's keys keep it harmless).
    func markUnprocessed() async throws {
        try await pool.write { db in try db.execute(sql: "UPDATE events SET processed_at = NULL") }
    }

    /// The outbox, most recent first.
    public func messages(_ query: MessageQuery) async throws -> [OutboxMessage] {
        guard !isClosed.load(ordering: .acquiring) else { throw StoreError.closed }
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

    static func outboxMessage(_ row: Row) -> OutboxMessage {
        OutboxMessage(
            id: row["id"], idempotencyKey: row["idempotency_key"], eventID: row["event_id"], provider: row["provider"],
            orderReference: row["order_reference"], rule: row["rule"], channel: row["channel"], recipient: row["recipient"],
            locale: row["locale"], text: row["text"], encoding: row["encoding"], segments: row["segments"],
            state: OutboxMessage.State(rawValue: row["state"]) ?? .failed, attempts: row["attempts"],
            nextAttemptAt: (row["next_attempt_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            lastError: row["last_error"], providerMessageID: row["provider_message_id"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]), whatsapp: WhatsAppTemplateCall(json: row["whatsapp"]),
            attemptedAt: (row["attempted_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
    }

    /// Inserts one event inside the batch's transaction and moves the order state forward.
    static func insert(_ event: IncomingEvent, db: Database) throws -> RecordOutcome {
        let headers = JSONValue.array(event.headers.map { .array([.string($0.name), .string($0.value)]) }).serialized()
        // Cached statements: compiled once per connection, not once per event.
        let row = try Row.fetchOne(
            db.cachedStatement(sql: """
                INSERT INTO events (provider, dedupe_key, delivery_id, received_at, remote_address, headers, body,
                                    event, order_reference, status, previous_status, occurred_at, parse_error,
                                    field_problems)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (provider, dedupe_key) DO UPDATE SET deliveries = deliveries + 1
                RETURNING id, deliveries
                """),
            arguments: [
                event.provider, event.dedupeKey, event.deliveryID, event.receivedAt.timeIntervalSince1970,
                event.remoteAddress, headers, Data(event.body), event.eventName, event.orderReference, event.status,
                event.previousStatus, event.occurredAt?.timeIntervalSince1970, event.parseError, event.fieldProblems,
            ])!
        let id: Int64 = row["id"]
        guard (row["deliveries"] as Int) == 1 else { return .duplicate(id: id) }
        guard let canonical = event.event, let profile = event.profile, canonical.order.reference != nil,
            canonical.order.status != nil, event.parseError == nil
        else {
            return .accepted(StoredEventSummary(id: id, previousStatus: event.previousStatus, stale: false))
        }
        let known = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM orders WHERE provider = ? AND reference = ?"),
            arguments: [event.provider, canonical.order.reference]
        ).map(Self.orderState)
        let source = ValueSource(from: "stored event \(id)", event: event.eventName)
        let decision = OrderDecision.decide(canonical, profile: profile, known: known, source: source)
        if decision.stale {
            try db.cachedStatement(sql: "UPDATE events SET stale = 1 WHERE id = ?").execute(arguments: [id])
        } else if decision.previousStatus != event.previousStatus || !decision.inherited.isEmpty {
            try db.cachedStatement(sql: "UPDATE events SET previous_status = ?, inherited = ? WHERE id = ?").execute(
                arguments: [
                    decision.previousStatus,
                    decision.inherited.isEmpty ? nil : RememberedValue.json(decision.inherited).serialized(), id,
                ])
        }
        if var state = decision.newState {
            if !decision.stale { state.eventID = id }
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
                    event.provider, state.reference, state.status, state.occurredAt?.timeIntervalSince1970,
                    state.eventID ?? id, event.receivedAt.timeIntervalSince1970,
                    state.remembered.isEmpty ? nil : RememberedValue.json(state.remembered).serialized(),
                ])
        }
        return .accepted(StoredEventSummary(id: id, previousStatus: decision.previousStatus, stale: decision.stale))
    }

    static func orderState(_ row: Row) -> OrderState {
        OrderState(
            provider: row["provider"], reference: row["reference"], status: row["status"],
            occurredAt: (row["occurred_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            eventID: row["event_id"], remembered: RememberedValue.values(fromJSON: row["remembered"]))
    }

    static func storedEvent(_ row: Row) -> StoredEvent {
        let headersText: String = row["headers"]
        var headers: [HeaderField] = []
        if case .array(let pairs)? = try? JSONParser.parse(Array(headersText.utf8)) {
            for pair in pairs {
                if case .array(let parts) = pair, parts.count == 2, case .string(let name) = parts[0],
                    case .string(let value) = parts[1]
                {
                    headers.append(HeaderField(name: name, value: value))
                }
            }
        }
        let body: Data = row["body"]
        return StoredEvent(
            id: row["id"], provider: row["provider"], dedupeKey: row["dedupe_key"], deliveryID: row["delivery_id"],
            receivedAt: Date(timeIntervalSince1970: row["received_at"]), remoteAddress: row["remote_address"],
            headers: headers, body: Array(body), eventName: row["event"], orderReference: row["order_reference"],
            status: row["status"], previousStatus: row["previous_status"],
            occurredAt: (row["occurred_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            parseError: row["parse_error"], fieldProblems: row["field_problems"], stale: row["stale"],
            deliveries: row["deliveries"],
            processedAt: (row["processed_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            inherited: RememberedValue.values(fromJSON: row["inherited"]))
    }
}

/// A shared atomic count.
final class Counter: Sendable {
    let value = Atomic<Int>(0)
}

/// Copies the WAL back into the database file every half second on a connection of its own,
/// in PASSIVE mode (it never waits for, nor blocks, the writer), so commits never pay for it.
/// The last connection to close checkpoints whatever is left.
final class Checkpointer: Sendable {
    private let task: Task<Void, Never>

    init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(1)
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        task = Task.detached(priority: .utility) {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                if Task.isCancelled { break }
                try? await queue.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)")
                }
            }
            try? queue.close()
        }
    }

    func stop() async {
        task.cancel()
        await task.value
    }
}
