import Foundation
import GRDB
import HeraldCore

/// Customers' replies: a keyword reply applied to the suppression list in the transaction that
/// keeps it (`ReplyAction`), and the kept replies listed for `herald replies`.
extension SQLiteStore {
    /// Applies the keyword reply `row` (kept as receipt `id`) unless a later keyword reply of the
    /// same sender and scope is already kept.
    static func applyReply(_ row: ReceiptRow, id: Int64, channel: String, at now: Date, db: Database) throws {
        guard let reply = row.replyAction, let sender = row.sender else { return }
        let time = row.replyTime(receivedAt: now)
        let newer = try Bool.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT EXISTS (SELECT 1 FROM receipts
                                   WHERE kind = 'reply' AND sender = ? AND opt_action IS NOT NULL AND opt_scope IS ?
                                     AND COALESCE(occurred_at, received_at) > ? AND id <> ?)
                    """),
            arguments: [sender, reply.scope.channel, time.timeIntervalSince1970, id])
        guard newer != true else { return }
        switch reply.action {
        case .optOut:
            guard let entry = ReplyAction.entry(for: row, channel: channel, scope: reply.scope, at: time) else {
                return
            }
            try add(entry, db: db)
        case .optIn:
            let forms = try storedForms(of: [sender], db: db)
            let lifted = try Suppression.filter(forms.keys.contains(Column("number")))
                .fetchAll(db).filter(reply.lifts)
            for entry in lifted {
                try Suppression.filter(Column("number") == entry.number)
                    .filter(Column("channel") == entry.scope.channel).deleteAll(db)
            }
        }
    }

    public func replies(sender: String?, limit: Int) async throws -> [StoredReceipt] {
        guard !isClosedNow else { throw StoreError.closed }
        return try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM receipts WHERE kind = 'reply' AND (? IS NULL OR sender = ?)
                    ORDER BY COALESCE(occurred_at, received_at) DESC, id DESC LIMIT ?
                    """,
                arguments: [sender, sender, limit]
            ).map(Self.storedReceipt)
        }
    }
}
