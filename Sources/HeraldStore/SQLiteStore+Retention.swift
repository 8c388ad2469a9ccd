import Foundation
import GRDB
import HeraldCore

/// What a prune removed (or, dry, would remove).
public struct PruneCounts: Sendable, Equatable {
    /// Events whose body, headers and derived values were deleted (their keys and times stay).
    public var events: Int
    /// Messages deleted.
    public var messages: Int
    /// Receipts deleted: those of deleted messages, and old ones about no message (replies,
    /// bodies that did not parse, receipts for messages Herald does not know).
    public var receipts: Int

    public init(events: Int, messages: Int, receipts: Int = 0) {
        self.events = events
        self.messages = messages
        self.receipts = receipts
    }
}

extension SQLiteStore {
    /// The states a message ends in: nothing more will happen to it, so it may be pruned.
    /// (`pending`, `sending`, `unknown` and `held` are unfinished work and are never pruned.)
    static let finalStates = "'sent', 'delivered', 'read', 'undelivered', 'failed', 'suppressed'"

    /// `herald prune`: deletes what is older than `cutoff` and no longer needed, in transactions
    /// of at most `batchSize` rows so intake's writes wait no longer than one batch.
    ///
    /// - Messages created before `cutoff` in a final state are deleted, and their receipts with
    ///   them; receipts received before `cutoff` about no message are deleted too.
    /// - Events received before `cutoff`, processed, and with no message left (every message of
    ///   theirs final and old) keep only their row's keys and times: provider, dedupe key,
    ///   delivery id, times, order reference and status. Their body, headers, remote address,
    ///   field problems and inherited values are deleted. The dedupe key keeps a redelivery of a
    ///   pruned event a duplicate, so it is neither processed nor messaged again.
    /// - The idempotency keys of deleted messages stay in `pruned_keys` (hashes, no personal
    ///   data): the same change under another dedupe key (a provider numbering each delivery)
    ///   plans a message with the same key, which is not inserted again.
    /// - An order whose last event was pruned forgets what it remembered of its customer (names,
    ///   numbers, addresses); its status and time stay, for staleness and previous status.
    ///
    /// With `dryRun`, counts what would go and changes nothing.
    public func prune(before cutoff: Date, dryRun: Bool = false, batchSize: Int = 1000) async throws -> PruneCounts {
        guard !isClosedNow else { throw StoreError.closed }
        let moment = cutoff.timeIntervalSince1970
        let oldMessages = "created_at < ? AND state IN (\(Self.finalStates))"
        // An event may go once none of its messages will outlive this prune.
        let oldEvents = """
            received_at < ? AND redacted_at IS NULL AND processed_at IS NOT NULL
            AND NOT EXISTS (
                SELECT 1 FROM messages m WHERE m.event_id = events.id
                AND (m.created_at >= ? OR m.state NOT IN (\(Self.finalStates))))
            """
        var counts = PruneCounts(events: 0, messages: 0)
        let oldReceipts = """
            (message_id IS NULL AND received_at < ?)
            OR message_id IN (SELECT id FROM messages WHERE \(oldMessages))
            """
        if dryRun {
            return try await pool.read { db in
                PruneCounts(
                    events: try Int.fetchOne(
                        db, sql: "SELECT COUNT(*) FROM events WHERE \(oldEvents)", arguments: [moment, moment]) ?? 0,
                    messages: try Int.fetchOne(
                        db, sql: "SELECT COUNT(*) FROM messages WHERE \(oldMessages)", arguments: [moment]) ?? 0,
                    receipts: try Int.fetchOne(
                        db, sql: "SELECT COUNT(*) FROM receipts WHERE \(oldReceipts)", arguments: [moment, moment])
                        ?? 0)
            }
        }
        // Receipts first: those of the messages about to go, and old ones about no message.
        while true {
            let done = try await pool.write { db in
                try db.execute(
                    sql: "DELETE FROM receipts WHERE id IN (SELECT id FROM receipts WHERE \(oldReceipts) LIMIT ?)",
                    arguments: [moment, moment, batchSize])
                return db.changesCount
            }
            counts.receipts += done
            guard done == batchSize else { break }
        }
        var cursor: Int64 = 0
        while true {
            let after = cursor
            let (done, last) = try await pool.write { db in
                let ids = try Int64.fetchAll(
                    db, sql: "SELECT id FROM messages WHERE id > ? AND \(oldMessages) ORDER BY id LIMIT ?",
                    arguments: [after, moment, batchSize])
                for id in ids {
                    try db.execute(
                        sql: "INSERT OR IGNORE INTO pruned_keys SELECT idempotency_key FROM messages WHERE id = ?",
                        arguments: [id])
                    try db.execute(sql: "DELETE FROM messages WHERE id = ?", arguments: [id])
                }
                return (ids.count, ids.last)
            }
            counts.messages += done
            guard let last, done == batchSize else { break }
            cursor = last
        }
        cursor = 0
        let now = Date().timeIntervalSince1970
        while true {
            let after = cursor
            let (done, last) = try await pool.write { db in
                let ids = try Int64.fetchAll(
                    db, sql: "SELECT id FROM events WHERE id > ? AND \(oldEvents) ORDER BY id LIMIT ?",
                    arguments: [after, moment, moment, batchSize])
                for id in ids { try Self.redactEvent(id: id, body: Data(), at: now, db: db) }
                // The orders whose last event this was forget their customer.
                for id in ids {
                    try db.execute(sql: "UPDATE orders SET remembered = NULL WHERE event_id = ?", arguments: [id])
                }
                return (ids.count, ids.last)
            }
            counts.events += done
            guard let last, done == batchSize else { break }
            cursor = last
        }
        return counts
    }

    /// Deletes what an event carried of its customer, leaving its keys, times and order status.
    static func redactEvent(id: Int64, body: Data, at now: Double, db: Database) throws {
        try db.cachedStatement(
            sql: """
                UPDATE events SET body = ?, headers = '[]', remote_address = NULL, parse_error = NULL,
                    field_problems = NULL, inherited = NULL, redacted_at = ?
                WHERE id = ?
                """
        ).execute(arguments: [body, now, id])
    }
}
