import Foundation
import Logging
import PostgresNIO

/// The schema, one migration per change; a shipped migration never changes.
///
/// The tables, columns and UNIQUE keys are SQLite's (`SQLiteStore+Migrations.swift`) as they
/// stand after its v10, types translated: times stay epoch seconds (`DOUBLE PRECISION`), BLOB is
/// BYTEA, `stale` a BOOLEAN, ids are identity columns.
extension PostgresStore {
    /// The advisory lock every instance takes to migrate ("HERALD"); a transaction-scoped lock, so
    /// it is released with the commit or rollback and cannot leak into the pool.
    static let migrationLock: Int64 = 0x4845_5241_4C44

    /// Each version with its statements, one per query (the extended protocol takes one at a time).
    static let migrations: [(version: String, statements: [String])] = [
        (
            "v1-schema",
            [
                """
                CREATE TABLE events (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    provider TEXT NOT NULL,
                    dedupe_key TEXT NOT NULL,
                    delivery_id TEXT,
                    received_at DOUBLE PRECISION NOT NULL,
                    remote_address TEXT,
                    headers TEXT NOT NULL,
                    body BYTEA NOT NULL,
                    event TEXT,
                    order_reference TEXT,
                    status TEXT,
                    previous_status TEXT,
                    occurred_at DOUBLE PRECISION,
                    parse_error TEXT,
                    stale BOOLEAN NOT NULL DEFAULT FALSE,
                    deliveries INTEGER NOT NULL DEFAULT 1,
                    processed_at DOUBLE PRECISION,
                    field_problems TEXT,
                    inherited TEXT,
                    redacted_at DOUBLE PRECISION,
                    UNIQUE (provider, dedupe_key)
                )
                """,
                "CREATE INDEX events_unprocessed ON events(id) WHERE processed_at IS NULL",
                "CREATE INDEX events_order ON events(provider, order_reference)",
                """
                CREATE TABLE orders (
                    provider TEXT NOT NULL,
                    reference TEXT NOT NULL,
                    status TEXT NOT NULL,
                    occurred_at DOUBLE PRECISION,
                    event_id BIGINT NOT NULL REFERENCES events(id),
                    updated_at DOUBLE PRECISION NOT NULL,
                    remembered TEXT,
                    PRIMARY KEY (provider, reference)
                )
                """,
                """
                CREATE TABLE messages (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    idempotency_key TEXT NOT NULL UNIQUE,
                    event_id BIGINT NOT NULL REFERENCES events(id),
                    provider TEXT NOT NULL,
                    order_reference TEXT,
                    rule TEXT NOT NULL,
                    channel TEXT NOT NULL,
                    recipient TEXT NOT NULL,
                    locale TEXT NOT NULL,
                    text TEXT NOT NULL,
                    encoding TEXT,
                    segments INTEGER,
                    state TEXT NOT NULL CHECK (state IN (
                        'pending', 'sending', 'unknown', 'sent', 'delivered', 'read', 'undelivered', 'failed', 'held',
                        'suppressed')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at DOUBLE PRECISION,
                    lease_expires_at DOUBLE PRECISION,
                    last_error TEXT,
                    provider_message_id TEXT,
                    created_at DOUBLE PRECISION NOT NULL,
                    sent_at DOUBLE PRECISION,
                    whatsapp TEXT,
                    attempted_at DOUBLE PRECISION
                )
                """,
                "CREATE INDEX messages_due ON messages(state, next_attempt_at)",
                "CREATE INDEX messages_order ON messages(order_reference)",
                "CREATE INDEX messages_event ON messages(event_id)",
                """
                CREATE TABLE suppressions (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    number TEXT NOT NULL,
                    channel TEXT,
                    reason TEXT NOT NULL,
                    source TEXT NOT NULL,
                    created_at DOUBLE PRECISION NOT NULL
                )
                """,
                "CREATE UNIQUE INDEX suppressions_scope ON suppressions(number, COALESCE(channel, ''))",
                "CREATE TABLE settings (name TEXT PRIMARY KEY, value BYTEA NOT NULL)",
            ]
        ),
        // SQLite's v10: the idempotency keys of pruned messages, which `completeProcessing` keeps
        // refusing once their rows are gone (`herald copy` brings them over from an SQLite file).
        ("v2-pruned-keys", ["CREATE TABLE pruned_keys (idempotency_key TEXT PRIMARY KEY)"]),
        // Several instances: the processor's claims on events (`claimEvents`), found by order, and
        // the pacing every instance shares (`PostgresPacer`). Only additions: an instance of the
        // previous version keeps working beside one that migrated.
        (
            "v3-instances",
            [
                "ALTER TABLE events ADD COLUMN claimed_until DOUBLE PRECISION",
                "ALTER TABLE events ADD COLUMN claimed_by TEXT",
                """
                CREATE INDEX events_order_unprocessed ON events(provider, order_reference, id)
                WHERE processed_at IS NULL
                """,
                "CREATE TABLE pacing (key TEXT PRIMARY KEY, booked_at DOUBLE PRECISION NOT NULL)",
            ]
        ),
        // SQLite's v11: receipts, and the time of each delivery step on their messages. Only
        // additions, as for v3.
        (
            "v4-receipts",
            [
                """
                CREATE TABLE receipts (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    channel TEXT NOT NULL,
                    dedupe_key TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    provider_message_id TEXT,
                    provider_status TEXT,
                    idempotency_key TEXT,
                    error_code TEXT,
                    sender TEXT,
                    body TEXT,
                    raw BYTEA,
                    parse_error TEXT,
                    occurred_at DOUBLE PRECISION,
                    received_at DOUBLE PRECISION NOT NULL,
                    message_id BIGINT,
                    UNIQUE (channel, dedupe_key)
                )
                """,
                "ALTER TABLE messages ADD COLUMN delivered_at DOUBLE PRECISION",
                "ALTER TABLE messages ADD COLUMN read_at DOUBLE PRECISION",
                "ALTER TABLE messages ADD COLUMN undelivered_at DOUBLE PRECISION",
                "ALTER TABLE messages ADD COLUMN delivery_error TEXT",
                "CREATE INDEX messages_provider_message ON messages(provider_message_id)",
            ]
        ),
        // A keyword reply's action and scope (see SQLite's `v12-reply-keywords`).
        (
            "v5-reply-keywords",
            [
                "ALTER TABLE receipts ADD COLUMN opt_action TEXT",
                "ALTER TABLE receipts ADD COLUMN opt_scope TEXT",
                "CREATE INDEX receipts_sender ON receipts(sender) WHERE kind = 'reply'",
            ]
        ),
        // Intake stores an event undecided (its keys and raw body); the processor normalizes it and
        // decides its order's state, then clears the mark. Events stored before were decided at intake.
        ("v6-undecided-events", ["ALTER TABLE events ADD COLUMN undecided BOOLEAN NOT NULL DEFAULT FALSE"]),
    ]

    /// Applies the migrations not applied yet, in one transaction holding `migrationLock`: a second
    /// instance starting meanwhile waits, then finds them applied.
    /// With `schema`, the tables go there (created when missing; the pool's `search_path` names it).
    /// Every statement is answered within `limit` (the lock waits for another instance's migration).
    static func migrate(_ client: PostgresClient, schema: String?, limit: Duration, logger: Logger) async throws {
        try await transaction(client, limit: limit, logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
            if let schema {
                guard schema.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) else {
                    throw StoreError("a schema name is lowercase letters, digits and _: \(schema)")
                }
                try await connection.query("CREATE SCHEMA IF NOT EXISTS \(unescaped: schema)", logger: logger)
            }
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)
                """, logger: logger)
            let applied = Set(
                try await connection.query("SELECT version FROM schema_migrations", logger: logger)
                    .map { try $0.decode(String.self) })
            for (version, statements) in migrations where !applied.contains(version) {
                for statement in statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                let now = Date().timeIntervalSince1970
                try await connection.query(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (\(version), \(now))",
                    logger: logger)
                logger.info("database migrated", metadata: ["herald.migration": "\(version)"])
            }
        }
    }
}
