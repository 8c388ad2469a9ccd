import Foundation
import HeraldCore
import Logging
import PostgresNIO

/// Receipts (`ReceiptStore`) on PostgreSQL, as on SQLite. A receipt may reach any instance, and a
/// provider's retry of it another one at the same moment, so two transactions can need the same
/// receipt keys and the same messages. They take them in one order, which cannot deadlock: first
/// the messages the batch is about, locked (`FOR UPDATE`) by id ascending, then the receipts
/// inserted by dedupe key ascending (a second insert of a key waits for the first to commit, then
/// finds it: `UNIQUE (channel, dedupe_key)` keeps one row).
extension PostgresStore {
    public func recordReceipts(_ receipts: [IncomingReceipt], at now: Date, fallbacks: ReceiptFallbacks)
        async throws -> [ReceiptOutcome]
    {
        guard !isClosedNow else { throw StoreError.closed }
        let logger = self.logger
        let channel = self.channel
        return try await transaction { connection in
            var targets: [Int: Int64] = [:]
            for (index, incoming) in receipts.enumerated() {
                let row = ReceiptRow(incoming)
                guard row.isStatus else { continue }
                targets[index] = try await Self.messageID(for: row, on: connection, logger: logger)
            }
            let ids = Set(targets.values).sorted()
            if !ids.isEmpty {
                try await connection.query(
                    "SELECT id FROM messages WHERE id = ANY(\(ids)) ORDER BY id FOR UPDATE", logger: logger)
            }
            try await Self.lockSenders(of: receipts, on: connection, logger: logger)
            var outcomes = [ReceiptOutcome](repeating: .duplicate, count: receipts.count)
            let order = receipts.indices.sorted {
                (receipts[$0].channel, receipts[$0].dedupeKey) < (receipts[$1].channel, receipts[$1].dedupeKey)
            }
            for index in order {
                outcomes[index] = try await Self.insert(
                    receipts[index], messageID: targets[index], at: now, fallbacks: fallbacks, on: connection,
                    logger: logger)
            }
            try await Self.notifyFallbacks(outcomes, channel: channel, on: connection, logger: logger)
            return outcomes
        }
    }

    /// Inserts one receipt and applies it to `messageID` (locked by the caller).
    static func insert(
        _ incoming: IncomingReceipt, messageID: Int64?, at now: Date, fallbacks: ReceiptFallbacks,
        on connection: BoundedConnection, logger: Logger
    ) async throws -> ReceiptOutcome {
        let row = ReceiptRow(incoming)
        // Texts from outside, U+0000 replaced (`PostgresStore+Text.swift`); the raw body keeps it.
        let inserted = try await connection.query(
            """
            INSERT INTO receipts (channel, dedupe_key, kind, provider_message_id, provider_status, idempotency_key,
                                  error_code, sender, body, raw, parse_error, occurred_at, received_at, opt_action,
                                  opt_scope)
            VALUES (\(incoming.channel.storableInPostgres), \(incoming.dedupeKey.storableInPostgres), \(row.kind),
                    \(row.providerMessageID.storableInPostgres), \(row.providerStatus.storableInPostgres),
                    \(row.idempotencyKey.storableInPostgres), \(row.errorCode.storableInPostgres),
                    \(row.sender.storableInPostgres), \(row.body.storableInPostgres),
                    \(row.raw.map { ByteBuffer(bytes: $0) }), \(row.parseError.storableInPostgres),
                    \(row.occurredAt?.timeIntervalSince1970), \(now.timeIntervalSince1970), \(row.optAction),
                    \(row.optScope.storableInPostgres))
            ON CONFLICT (channel, dedupe_key) DO NOTHING
            RETURNING id
            """, logger: logger)
        guard let receiptID = try inserted.first?.decode(Int64.self) else { return .duplicate }
        if row.replyAction != nil {
            try await applyReply(
                row, id: receiptID, channel: incoming.channel, at: now, on: connection, logger: logger)
        }
        guard let messageID,
            let written = try await connection.query(
                "SELECT state FROM messages WHERE id = \(messageID)", logger: logger
            ).first?.decode(String.self),
            let current = OutboxMessage.State(rawValue: written)
        else { return .recorded(messageID: nil, state: nil) }
        try await connection.query(
            "UPDATE receipts SET message_id = \(messageID) WHERE id = \(receiptID)", logger: logger)
        guard let change = row.change(from: current, at: now) else {
            return .recorded(messageID: messageID, state: current)
        }
        var effects = ReceiptEffects(
            sentToDelivered: try await sentToDelivered(messageID, change: change, on: connection, logger: logger))
        if let column = change.stepColumn {
            // The column name comes from `MessageChange`'s four, never from the request.
            try await connection.query(
                """
                UPDATE messages
                SET \(unescaped: column) = COALESCE(\(unescaped: column), \(change.at.timeIntervalSince1970)),
                    delivery_error = COALESCE(\(change.errorCode.storableInPostgres), delivery_error),
                    provider_message_id = COALESCE(provider_message_id, \(row.providerMessageID.storableInPostgres))
                WHERE id = \(messageID)
                """, logger: logger)
        }
        guard let state = change.state else {
            return .recorded(messageID: messageID, state: current, effects: effects)
        }
        // Out of the queue for good: the provider has it, so it is never claimed or sent again.
        try await connection.query(
            """
            UPDATE messages SET state = \(state.rawValue), next_attempt_at = NULL, lease_expires_at = NULL
            WHERE id = \(messageID)
            """, logger: logger)
        if state == .undelivered {
            effects.fallbackMessageID = try await planFallback(
                for: messageID, errorCode: row.errorCode, fallbacks, now, on: connection, logger: logger)
        }
        return .recorded(messageID: messageID, state: state, effects: effects)
    }

    /// The message a status is about: by the idempotency key it carries, else by the provider's id.
    private static func messageID(for row: ReceiptRow, on connection: BoundedConnection, logger: Logger)
        async throws -> Int64?
    {
        if let key = row.idempotencyKey.storableInPostgres,
            let id = try await connection.query(
                "SELECT id FROM messages WHERE idempotency_key = \(key)", logger: logger
            ).first?.decode(Int64.self)
        {
            return id
        }
        guard let id = row.providerMessageID.storableInPostgres else { return nil }
        return try await connection.query(
            "SELECT id FROM messages WHERE provider_message_id = \(id) ORDER BY id DESC LIMIT 1", logger: logger
        ).first?.decode(Int64.self)
    }

    public func receipts(channel: String?, limit: Int) async throws -> [StoredReceipt] {
        guard !isClosedNow else { throw StoreError.closed }
        let channel = channel.storableInPostgres
        return try await rows(
            """
            SELECT * FROM receipts WHERE \(channel)::text IS NULL OR channel = \(channel)
            ORDER BY id DESC LIMIT \(limit)
            """
        ).map(Self.storedReceipt)
    }

    static func storedReceipt(_ row: PostgresRow) throws -> StoredReceipt {
        let column = PostgresColumns(row)
        return StoredReceipt(
            id: try column("id"), channel: try column("channel"), dedupeKey: try column("dedupe_key"),
            kind: try column("kind"), providerMessageID: try column("provider_message_id"),
            providerStatus: try column("provider_status"), idempotencyKey: try column("idempotency_key"),
            errorCode: try column("error_code"), sender: try column("sender"), body: try column("body"),
            parseError: try column("parse_error"), occurredAt: try column.optionalDate("occurred_at"),
            receivedAt: try column.date("received_at"), messageID: try column("message_id"),
            optAction: try column("opt_action"), optScope: try column("opt_scope"))
    }
}
