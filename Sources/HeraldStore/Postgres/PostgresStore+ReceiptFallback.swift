import Foundation
import HeraldCore
import Logging
import PostgresNIO

/// What a receipt does beyond its message's state on PostgreSQL (`ReceiptEffects`), as on SQLite:
/// the send → delivered time, and the fallback message planned when the customer is out of reach.
/// The message is locked by `recordReceipts`, so two instances recording receipts about it queue
/// behind each other and the fallback's UNIQUE key keeps one.
extension PostgresStore {
    /// Read before the receipt's step is written: whether it is the first delivered step.
    static func sentToDelivered(
        _ messageID: Int64, change: MessageChange, on connection: BoundedConnection, logger: Logger
    ) async throws -> TimeInterval? {
        guard change.stepColumn == "delivered_at",
            let row = try await connection.query(
                "SELECT sent_at, delivered_at FROM messages WHERE id = \(messageID)", logger: logger
            ).first
        else { return nil }
        let (sentAt, deliveredAt) = try row.decode((Double?, Double?).self)
        return change.sentToDelivered(
            sentAt: sentAt.map(Date.init(timeIntervalSince1970:)),
            deliveredAt: deliveredAt.map(Date.init(timeIntervalSince1970:)))
    }

    /// Plans the fallback of message `messageID`, just moved to undelivered, in the receipt's
    /// transaction; returns its id, or nil when none applies or its key is already in the outbox
    /// (or was pruned: it went out once).
    static func planFallback(
        for messageID: Int64, errorCode: String?, _ fallbacks: ReceiptFallbacks, _ now: Date,
        on connection: BoundedConnection, logger: Logger
    ) async throws -> Int64? {
        guard !fallbacks.channels.isEmpty,
            let row = try await connection.query("SELECT * FROM messages WHERE id = \(messageID)", logger: logger)
                .first,
            let planned = fallbacks.message(replacing: try outboxMessage(row), errorCode: errorCode, at: now)
        else { return nil }
        return try await insertMessages([planned], on: connection, logger: logger)[0]
    }

    /// Other instances' dispatchers learn of planned fallbacks when the transaction commits.
    static func notifyFallbacks(
        _ outcomes: [ReceiptOutcome], channel: String, on connection: BoundedConnection, logger: Logger
    ) async throws {
        let planned = outcomes.contains {
            if case .recorded(_, _, let effects) = $0 { effects.fallbackMessageID != nil } else { false }
        }
        if planned { try await notify(.messagesQueued, channel: channel, on: connection, logger: logger) }
    }
}
