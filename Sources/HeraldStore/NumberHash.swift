import Crypto
import Foundation
import GRDB
import HeraldCore

/// How `herald forget` keeps a number it erased where an opt-out still needs it: `forgotten:`
/// and the hex HMAC-SHA256 of the E.164 under a random 32-byte secret made once per database
/// (the `settings` table, migration `v9-retention`).
///
/// The secret keeps the hash from being looked up in a table made for every database, and two
/// databases' hashes of one number from matching. It does not make the number unrecoverable
/// from the file itself: whoever has the file has the secret, and a country's numbers are few
/// enough to hash them all. What it stops is reading the number, not a determined search.
public struct NumberHash: Sendable {
    static let prefix = "forgotten:"
    static let settingName = "number-hash-key"

    let key: SymmetricKey

    /// `forgotten:` and 64 hex digits.
    public func hash(_ e164: String) -> String {
        Self.prefix + Hex.encode(HMAC<SHA256>.authenticationCode(for: Array(e164.utf8), using: key))
    }

    /// Whether a stored number is a hash rather than a number.
    public static func isHash(_ number: String) -> Bool { number.hasPrefix(prefix) }

    /// The hex digits of a hash (for `herald suppressions list`).
    public static func digits(of hashed: String) -> String { String(hashed.dropFirst(prefix.count)) }

    /// The database's hash, nil while nothing was ever forgotten (no secret yet: no hashes either).
    static func existing(_ db: Database) throws -> NumberHash? {
        guard
            let data = try Data.fetchOne(db, sql: "SELECT value FROM settings WHERE name = ?", arguments: [settingName])
        else { return nil }
        return NumberHash(key: SymmetricKey(data: data))
    }

    /// The database's hash, making its secret on first use (inside a write transaction).
    static func make(_ db: Database) throws -> NumberHash {
        if let existing = try existing(db) { return existing }
        let key = SymmetricKey(size: .bits256)
        let data = key.withUnsafeBytes { Data($0) }
        try db.execute(sql: "INSERT INTO settings (name, value) VALUES (?, ?)", arguments: [settingName, data])
        return NumberHash(key: key)
    }
}
