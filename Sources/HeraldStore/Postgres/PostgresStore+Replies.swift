import Foundation
import HeraldCore
import Logging
import PostgresNIO

/// Customers' replies on PostgreSQL, as on SQLite (`SQLiteStore+Replies.swift`). A STOP and a
/// START of one number may reach two instances at once; each transaction first takes a lock on
/// the sender (`lockSenders`), so the second one reads the first's reply once it has committed
/// (READ COMMITTED reads afresh per statement) and the later reply by the provider's time wins.
extension PostgresStore {
    /// Transaction-scoped advisory locks on the senders of `receipts`' keyword replies, taken in
    /// ascending order (so two batches naming the same senders cannot deadlock), after the
    /// messages' row locks and before any insert, the order every receipt transaction follows.
    static func lockSenders(of receipts: [IncomingReceipt], on connection: BoundedConnection, logger: Logger)
        async throws
    {
        let senders = Set(
            receipts.compactMap { incoming -> String? in
                guard incoming.replyAction != nil, case .reply(let reply)? = incoming.receipt?.content else {
                    return nil
                }
                return reply.from.storableInPostgres
            }
        ).sorted()
        for sender in senders {
            try await connection.query(
                "SELECT pg_advisory_xact_lock(\(senderLockSpace), hashtext(\(sender)))", logger: logger)
        }
    }

    /// The advisory lock space of senders (`pg_advisory_xact_lock(int, int)`), apart from the
    /// migration lock's single key.
    static let senderLockSpace: Int32 = 0x6865_7270  // "herp"

    /// Applies the keyword reply `row` (kept as receipt `id`) unless a later keyword reply of the
    /// same sender and scope is already kept.
    static func applyReply(
        _ row: ReceiptRow, id: Int64, channel: String, at now: Date, on connection: BoundedConnection, logger: Logger
    ) async throws {
        guard let reply = row.replyAction, let sender = row.sender.storableInPostgres else { return }
        let time = row.replyTime(receivedAt: now)
        let scope = reply.scope.channel.storableInPostgres
        let newer = try await connection.query(
            """
            SELECT 1 FROM receipts
            WHERE kind = 'reply' AND sender = \(sender) AND opt_action IS NOT NULL
              AND opt_scope IS NOT DISTINCT FROM \(scope)
              AND COALESCE(occurred_at, received_at) > \(time.timeIntervalSince1970) AND id <> \(id)
            LIMIT 1
            """, logger: logger)
        guard newer.isEmpty else { return }
        switch reply.action {
        case .optOut:
            guard let entry = ReplyAction.entry(for: row, channel: channel, scope: reply.scope, at: time) else {
                return
            }
            try await add(entry, on: connection, logger: logger)
        case .optIn:
            let forms = try await storedForms(of: [sender], on: connection, logger: logger)
            let rows = try await connection.query(
                "SELECT * FROM suppressions WHERE number = ANY(\(Array(forms.keys))) FOR UPDATE", logger: logger)
            for entry in try rows.map(suppression) where reply.lifts(entry) {
                try await connection.query(
                    """
                    DELETE FROM suppressions
                    WHERE number = \(entry.number) AND channel IS NOT DISTINCT FROM \(entry.scope.channel)
                    """, logger: logger)
            }
        }
    }

    public func replies(sender: String?, limit: Int) async throws -> [StoredReceipt] {
        guard !isClosedNow else { throw StoreError.closed }
        let sender = sender.storableInPostgres
        return try await rows(
            """
            SELECT * FROM receipts WHERE kind = 'reply' AND (\(sender)::text IS NULL OR sender = \(sender))
            ORDER BY COALESCE(occurred_at, received_at) DESC, id DESC LIMIT \(limit)
            """
        ).map(Self.storedReceipt)
    }
}
