import GRDB

/// The schema, one migration per change; a shipped migration never changes.
extension SQLiteStore {
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
        // Retention and erasure (`SQLiteStore+Retention.swift`): when an event's body was pruned or
        // forgotten (its row stays, with its dedupe key), the database's own settings (the
        // secret that hashes forgotten numbers), and an index for "has this event messages left".
        migrator.registerMigration("v9-retention") { db in
            try db.execute(sql: "ALTER TABLE events ADD COLUMN redacted_at REAL")
            try db.execute(sql: "CREATE INDEX messages_event ON messages(event_id)")
            try db.execute(sql: "CREATE TABLE settings (name TEXT PRIMARY KEY, value BLOB NOT NULL)")
        }
        // The idempotency keys of pruned messages (SHA-256 values, no personal data): the outbox's
        // UNIQUE key keeps guarding them once their rows are gone.
        migrator.registerMigration("v10-pruned-keys") { db in
            try db.execute(sql: "CREATE TABLE pruned_keys (idempotency_key TEXT PRIMARY KEY) WITHOUT ROWID")
        }
        // Receipts from `/receipts/{channel}` (`ReceiptStore`), one per channel and provider id, and
        // the time of each delivery step on the message they apply to (found by provider id).
        migrator.registerMigration("v11-receipts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE receipts (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        channel TEXT NOT NULL,
                        dedupe_key TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        provider_message_id TEXT,
                        provider_status TEXT,
                        idempotency_key TEXT,
                        error_code TEXT,
                        sender TEXT,
                        body TEXT,
                        raw BLOB,
                        parse_error TEXT,
                        occurred_at REAL,
                        received_at REAL NOT NULL,
                        message_id INTEGER,
                        UNIQUE (channel, dedupe_key)
                    );
                    ALTER TABLE messages ADD COLUMN delivered_at REAL;
                    ALTER TABLE messages ADD COLUMN read_at REAL;
                    ALTER TABLE messages ADD COLUMN undelivered_at REAL;
                    ALTER TABLE messages ADD COLUMN delivery_error TEXT;
                    CREATE INDEX messages_provider_message ON messages(provider_message_id);
                    """)
        }
        // A keyword reply's action and scope, and the sender's keyword replies found by the time
        // they were sent (the latest STOP or START of a number wins, whatever order they arrive in).
        migrator.registerMigration("v12-reply-keywords") { db in
            try db.execute(
                sql: """
                    ALTER TABLE receipts ADD COLUMN opt_action TEXT;
                    ALTER TABLE receipts ADD COLUMN opt_scope TEXT;
                    CREATE INDEX receipts_sender ON receipts(sender) WHERE kind = 'reply';
                    """)
        }
        // Intake stores an event undecided (its keys and raw body); the processor normalizes it and
        // decides its order's state, then clears the mark. Events stored before were decided at intake.
        migrator.registerMigration("v13-undecided-events") { db in
            try db.execute(sql: "ALTER TABLE events ADD COLUMN undecided INTEGER NOT NULL DEFAULT 0")
        }
        return migrator
    }()
}
