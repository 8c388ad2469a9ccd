import Foundation
import GRDB
import HeraldCore

/// What a receipt does beyond its message's state on SQLite (`ReceiptEffects`): the send →
/// delivered time, and the fallback message planned when the customer is out of reach.
extension SQLiteStore {
    /// Read before the receipt's step is written: whether it is the first delivered step.
    static func sentToDelivered(_ messageID: Int64, change: MessageChange, db: Database) throws -> TimeInterval? {
        guard change.stepColumn == "delivered_at",
            let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT sent_at, delivered_at FROM messages WHERE id = ?"),
                arguments: [messageID])
        else { return nil }
        func date(_ column: String) -> Date? { (row[column] as Double?).map(Date.init(timeIntervalSince1970:)) }
        return change.sentToDelivered(sentAt: date("sent_at"), deliveredAt: date("delivered_at"))
    }

    /// Plans the fallback of message `messageID`, just moved to undelivered, in the receipt's
    /// transaction; returns its id, or nil when none applies or its key is already in the outbox
    /// (or was pruned: it went out once).
    static func planFallback(
        for messageID: Int64, errorCode: String?, _ fallbacks: ReceiptFallbacks, _ now: Date, _ db: Database
    ) throws -> Int64? {
        guard !fallbacks.channels.isEmpty,
            let row = try Row.fetchOne(db, sql: "SELECT * FROM messages WHERE id = ?", arguments: [messageID]),
            let planned = fallbacks.message(replacing: outboxMessage(row), errorCode: errorCode, at: now)
        else { return nil }
        return try insertMessage(planned, db: db)
    }
}
