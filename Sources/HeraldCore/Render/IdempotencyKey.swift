import Crypto

/// The key that makes a message unique: SHA-256 of provider, order reference, new status, rule
/// id, channel and recipient. The same event delivered six times, replayed, or processed twice
/// after a crash yields the same key, and the outbox holds it under a UNIQUE constraint.
public enum IdempotencyKey {
    public static func make(provider: String, reference: String, status: String, rule: String, channel: String, recipient: String) -> String {
        // Unit separators keep ("a|b", "c") and ("a", "b|c") apart.
        let material = [provider, reference, status, rule, channel, recipient].joined(separator: "\u{1F}")
        return Hex.encode(SHA256.hash(data: Array(material.utf8)))
    }
}
