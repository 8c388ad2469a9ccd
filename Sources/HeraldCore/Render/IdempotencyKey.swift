import Crypto

/// The key that makes a message unique: SHA-256 of provider, order reference, new status, rule
/// id, channel and recipient. The same event delivered six times, replayed, or processed twice
/// after a crash yields the same key, and the outbox holds it under a UNIQUE constraint.
public enum IdempotencyKey {
    public static func make(
        provider: String, reference: String, status: String, rule: String, channel: String, recipient: String
    ) -> String {
        // Unit separators keep ("a|b", "c") and ("a", "b|c") apart.
        let material = [provider, reference, status, rule, channel, recipient].joined(separator: "\u{1F}")
        return Hex.encode(SHA256.hash(data: Array(material.utf8)))
    }

    /// The key of the message planned on `channel` when a receipt says the message keyed
    /// `original` cannot reach its customer (WhatsApp 131026/131047 with the rule's `fallback`).
    /// Derived from the original key alone, so every receipt about that message, on any instance,
    /// names the same fallback message and the outbox's UNIQUE key plans it once. The `fallback`
    /// tag keeps it apart from any key `make` yields.
    public static func fallback(of original: String, channel: String) -> String {
        let material = ["fallback", original, channel].joined(separator: "\u{1F}")
        return Hex.encode(SHA256.hash(data: Array(material.utf8)))
    }
}
