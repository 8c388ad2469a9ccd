import Foundation
import GRDB
import HeraldCore

/// What `herald forget` changed.
public struct ForgetCounts: Sendable, Equatable {
    /// Events whose stored body mentioned the number (or whose messages went to it), now redacted.
    public var events: Int
    /// Messages to the number or mentioning it, now redacted.
    public var messages: Int
    /// Suppression entries of the number, now kept under its hash.
    public var suppressions: Int
    /// Receipts from the number (replies), mentioning it, or about its messages, now redacted.
    public var receipts: Int

    public init(events: Int, messages: Int, suppressions: Int, receipts: Int = 0) {
        self.events = events
        self.messages = messages
        self.suppressions = suppressions
        self.receipts = receipts
    }
}

extension SQLiteStore {
    /// The body a forgotten event keeps.
    public static let forgottenBody = Data(#"{"redacted":"herald forget"}"#.utf8)
    /// The text a forgotten message keeps.
    static let forgottenText = "[redacted by herald forget]"

    /// `herald forget`: erases one customer's number, in one transaction.
    ///
    /// - Events whose body, inherited values or field problems mention the number in any spelling
    ///   (`NumberMentions`), and the events of messages sent to it, lose their body (replaced by
    ///   `{"redacted":"herald forget"}`), headers, remote address and derived values; their
    ///   dedupe key and times stay, so a redelivery is still a duplicate.
    /// - Messages to the number keep its hash as their recipient; those and the other messages of
    ///   redacted events (a copy to the merchant names the customer) lose their text, WhatsApp
    ///   parameters and error text, and their idempotency key becomes a random one (the key is a
    ///   hash of the recipient). Unfinished ones end `suppressed`: nothing is sent to a hash.
    /// - Orders of redacted events, or remembering the number, forget what they remembered.
    /// - Receipts from the number (its replies), mentioning it (a body that did not parse), or
    ///   about the redacted messages keep their provider ids (a redelivery is still a duplicate)
    ///   and lose the sender (kept as its hash), the text, the raw body and the message's old key.
    /// - Suppression entries of the number are kept with the number replaced by its hash
    ///   (`NumberHash`), so the opt-out survives; a number without one gets none.
    ///
    /// Freed pages are zeroed (`secure_delete`), the file is rewritten without free space
    /// (`VACUUM`, which holds the write lock while it runs) and the WAL is truncated, so the old
    /// bytes linger neither in the database file nor in its WAL.
    public func forget(
        number e164: String, defaultCountry: String?, at now: Date = Date()
    ) async throws -> ForgetCounts {
        guard !isClosedNow else { throw StoreError.closed }
        let mentions = NumberMentions(e164: e164, defaultCountry: defaultCountry)
        let moment = now.timeIntervalSince1970
        let counts = try await pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA secure_delete = ON")
            defer { try? db.execute(sql: "PRAGMA secure_delete = OFF") }
            var counts = ForgetCounts(events: 0, messages: 0, suppressions: 0)
            try db.inTransaction {
                let hash = try NumberHash.make(db)
                // Events: scanned in Swift, the number may be written in any way.
                var eventIDs = Set(
                    try Int64.fetchAll(db, sql: "SELECT event_id FROM messages WHERE recipient = ?", arguments: [e164]))
                // A dedupe key or delivery id made of the number (a provider deduplicated on a phone
                // field): kept as its hash, so the row holds no number; a redelivery of that event
                // is then not recognised.
                var keyIDs: [Int64] = []
                let rows = try Row.fetchCursor(
                    db,
                    sql: """
                        SELECT id, body, inherited, field_problems, parse_error, headers, dedupe_key, delivery_id
                        FROM events
                        """)
                while let row = try rows.next() {
                    let body: Data = row["body"]
                    let texts: [String?] = [
                        row["inherited"], row["field_problems"], row["parse_error"], row["headers"],
                    ]
                    if mentions.found(in: Array(body)) || texts.contains(where: { $0.map(mentions.found) ?? false }) {
                        eventIDs.insert(row["id"])
                    }
                    let keys: [String?] = [row["dedupe_key"], row["delivery_id"]]
                    if keys.contains(where: { $0.map(mentions.found) ?? false }) {
                        eventIDs.insert(row["id"])
                        keyIDs.append(row["id"])
                    }
                }
                for id in keyIDs {
                    let key = try String.fetchOne(
                        db, sql: "SELECT dedupe_key FROM events WHERE id = ?", arguments: [id])
                    try db.execute(
                        sql: "UPDATE events SET dedupe_key = ?, delivery_id = NULL WHERE id = ?",
                        arguments: [hash.hash(key ?? ""), id])
                }
                for id in eventIDs.sorted() {
                    try Self.redactEvent(id: id, body: Self.forgottenBody, at: moment, db: db)
                    try db.execute(
                        sql: """
                            UPDATE orders SET remembered = NULL WHERE (provider, reference) IN
                                (SELECT provider, order_reference FROM events WHERE id = ?)
                            """,
                        arguments: [id])
                }
                counts.events = eventIDs.count
                // Orders remembering the number from an event already pruned.
                let orders = try Row.fetchAll(
                    db, sql: "SELECT provider, reference, remembered FROM orders WHERE remembered IS NOT NULL")
                for order in orders where mentions.found(in: order["remembered"] as String) {
                    try db.execute(
                        sql: "UPDATE orders SET remembered = NULL WHERE provider = ? AND reference = ?",
                        arguments: [order["provider"] as String, order["reference"] as String])
                }
                // Messages.
                var forgottenMessages: Set<Int64> = []
                let messages = try Row.fetchAll(
                    db, sql: "SELECT id, event_id, recipient, text, last_error, whatsapp, state FROM messages")
                for message in messages {
                    let recipient: String = message["recipient"]
                    let texts: [String?] = [message["text"], message["last_error"], message["whatsapp"]]
                    guard
                        recipient == e164 || eventIDs.contains(message["event_id"])
                            || texts.contains(where: { $0.map(mentions.found) ?? false })
                    else { continue }
                    let unfinished = ["pending", "sending", "unknown", "held"].contains(message["state"] as String)
                    try db.execute(
                        sql: """
                            UPDATE messages SET recipient = ?, text = ?, whatsapp = NULL, idempotency_key = ?,
                                last_error = CASE WHEN ? THEN ? WHEN last_error IS NULL THEN NULL ELSE ? END,
                                state = CASE WHEN ? THEN 'suppressed' ELSE state END,
                                next_attempt_at = CASE WHEN ? THEN NULL ELSE next_attempt_at END
                            WHERE id = ?
                            """,
                        arguments: [
                            recipient == e164 ? hash.hash(e164) : recipient, Self.forgottenText,
                            "forgotten:" + UUID().uuidString.lowercased(), unfinished,
                            "suppressed: the recipient was erased by herald forget", Self.forgottenText,
                            unfinished, unfinished, message["id"] as Int64,
                        ])
                    counts.messages += 1
                    forgottenMessages.insert(message["id"])
                }
                counts.receipts = try Self.forgetReceipts(
                    of: e164, hashed: hash.hash(e164), messages: forgottenMessages, mentions: mentions, db: db)
                // Suppressions: the opt-out stays, under the hash.
                let hashed = hash.hash(e164)
                for entry in try Suppression.filter(Column("number") == e164).fetchAll(db) {
                    let scope = Suppression.filter(Column("channel") == entry.scope.channel)
                    try scope.filter(Column("number") == hashed).deleteAll(db)
                    try scope.filter(Column("number") == e164).updateAll(db, Column("number").set(to: hashed))
                    counts.suppressions += 1
                }
                return .commit
            }
            // Rewrite the file without the free space old copies of rows may sit in, then empty the WAL.
            try db.execute(sql: "VACUUM")
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            return counts
        }
        return counts
    }

    /// The receipts part of `forget`, in its transaction; returns how many were redacted.
    static func forgetReceipts(
        of e164: String, hashed: String, messages: Set<Int64>, mentions: NumberMentions, db: Database
    ) throws -> Int {
        var ids: [Int64] = []
        let rows = try Row.fetchCursor(db, sql: "SELECT id, sender, body, raw, message_id FROM receipts")
        while let row = try rows.next() {
            let raw: Data? = row["raw"]
            let body: String? = row["body"]
            if (row["sender"] as String?) == e164 || (row["message_id"] as Int64?).map(messages.contains) == true
                || body.map(mentions.found) == true || raw.map({ mentions.found(in: Array($0)) }) == true
            {
                ids.append(row["id"])
            }
        }
        for id in ids {
            try db.execute(
                sql: """
                    UPDATE receipts SET sender = CASE WHEN sender = ? THEN ? ELSE sender END,
                        body = CASE WHEN body IS NULL THEN NULL ELSE ? END, raw = NULL, idempotency_key = NULL
                    WHERE id = ?
                    """,
                arguments: [e164, hashed, forgottenText, id])
        }
        return ids.count
    }
}
