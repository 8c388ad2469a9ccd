import Foundation
import GRDB
import HeraldCore

/// Receipts (`ReceiptStore`): each kept once per channel and provider id, its status applied to
/// the outbox in the same transaction.
extension SQLiteStore {
    public func recordReceipts(_ receipts: [IncomingReceipt], at now: Date, fallbacks: ReceiptFallbacks)
        async throws -> [ReceiptOutcome]
    {
        guard !isClosedNow else { throw StoreError.closed }
        return try await pool.write { db in
            try receipts.map { try Self.insert($0, at: now, fallbacks: fallbacks, db: db) }
        }
    }

    static func insert(_ incoming: IncomingReceipt, at now: Date, fallbacks: ReceiptFallbacks, db: Database) throws
        -> ReceiptOutcome
    {
        let row = ReceiptRow(incoming)
        let inserted = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    INSERT INTO receipts (channel, dedupe_key, kind, provider_message_id, provider_status,
                                          idempotency_key, error_code, sender, body, raw, parse_error, occurred_at,
                                          received_at, opt_action, opt_scope)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (channel, dedupe_key) DO NOTHING
                    RETURNING id
                    """),
            arguments: [
                incoming.channel, incoming.dedupeKey, row.kind, row.providerMessageID, row.providerStatus,
                row.idempotencyKey, row.errorCode, row.sender, row.body, row.raw.map { Data($0) }, row.parseError,
                row.occurredAt?.timeIntervalSince1970, now.timeIntervalSince1970, row.optAction, row.optScope,
            ])
        guard let receiptID: Int64 = inserted?["id"] else { return .duplicate }
        if row.replyAction != nil {
            try applyReply(row, id: receiptID, channel: incoming.channel, at: now, db: db)
        }
        guard row.isStatus, let target = try message(for: row, db: db) else {
            return .recorded(messageID: nil, state: nil)
        }
        let (messageID, current) = target
        try db.cachedStatement(sql: "UPDATE receipts SET message_id = ? WHERE id = ?").execute(arguments: [
            messageID, receiptID,
        ])
        guard let change = row.change(from: current, at: now) else {
            return .recorded(messageID: messageID, state: current)
        }
        var effects = ReceiptEffects(sentToDelivered: try sentToDelivered(messageID, change: change, db: db))
        if let column = change.stepColumn {
            // The column name comes from `MessageChange`'s four, never from the request.
            try db.execute(
                sql: """
                    UPDATE messages SET \(column) = COALESCE(\(column), ?),
                        delivery_error = COALESCE(?, delivery_error),
                        provider_message_id = COALESCE(provider_message_id, ?)
                    WHERE id = ?
                    """,
                arguments: [change.at.timeIntervalSince1970, change.errorCode, row.providerMessageID, messageID])
        }
        guard let state = change.state else {
            return .recorded(messageID: messageID, state: current, effects: effects)
        }
        // Out of the queue for good: the provider has it, so it is never claimed or sent again.
        try db.cachedStatement(
            sql: "UPDATE messages SET state = ?, next_attempt_at = NULL, lease_expires_at = NULL WHERE id = ?"
        ).execute(arguments: [state.rawValue, messageID])
        if state == .undelivered {
            effects.fallbackMessageID = try planFallback(for: messageID, errorCode: row.errorCode, fallbacks, now, db)
        }
        return .recorded(messageID: messageID, state: state, effects: effects)
    }

    /// The message a status is about: by the idempotency key it carries, else by the provider's id.
    private static func message(for row: ReceiptRow, db: Database) throws -> (Int64, OutboxMessage.State)? {
        var found: Row?
        if let key = row.idempotencyKey {
            found = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT id, state FROM messages WHERE idempotency_key = ?"), arguments: [key])
        }
        if found == nil, let id = row.providerMessageID {
            found = try Row.fetchOne(
                db.cachedStatement(
                    sql: "SELECT id, state FROM messages WHERE provider_message_id = ? ORDER BY id DESC LIMIT 1"),
                arguments: [id])
        }
        guard let found, let state = OutboxMessage.State(rawValue: found["state"]) else { return nil }
        return (found["id"], state)
    }

    public func receipts(channel: String?, limit: Int) async throws -> [StoredReceipt] {
        guard !isClosedNow else { throw StoreError.closed }
        return try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM receipts WHERE ? IS NULL OR channel = ? ORDER BY id DESC LIMIT ?",
                arguments: [channel, channel, limit]
            ).map(Self.storedReceipt)
        }
    }

    static func storedReceipt(_ row: Row) -> StoredReceipt {
        StoredReceipt(
            id: row["id"], channel: row["channel"], dedupeKey: row["dedupe_key"], kind: row["kind"],
            providerMessageID: row["provider_message_id"], providerStatus: row["provider_status"],
            idempotencyKey: row["idempotency_key"], errorCode: row["error_code"], sender: row["sender"],
            body: row["body"], parseError: row["parse_error"],
            occurredAt: (row["occurred_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            receivedAt: Date(timeIntervalSince1970: row["received_at"]), messageID: row["message_id"],
            optAction: row["opt_action"], optScope: row["opt_scope"])
    }
}
