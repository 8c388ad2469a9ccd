import HeraldStore
import Logging

/// Held messages grouped by channel and reason, for `herald serve` to say at start-up what waits
/// for the operator (set the credentials or the variable, then `herald retry --state held`).
public struct HeldMessages: Sendable, Equatable {
    public struct Group: Sendable, Equatable {
        public var channel: String
        public var reason: String
        public var count: Int
    }

    public var groups: [Group]
    public var total: Int { groups.reduce(0) { $0 + $1.count } }

    /// Counts the store's held messages by channel and reason (reasons name variables, never numbers).
    public static func count(in store: some OutboxStore) async throws -> HeldMessages {
        let held = try await store.messages(MessageQuery(state: .held, limit: Int(Int32.max)))
        var counts: [String: [String: Int]] = [:]
        for message in held { counts[message.channel, default: [:]][message.lastError ?? "held", default: 0] += 1 }
        let groups = counts.sorted { $0.key < $1.key }.flatMap { channel, reasons in
            reasons.sorted { $0.key < $1.key }.map { Group(channel: channel, reason: $0.key, count: $0.value) }
        }
        return HeldMessages(groups: groups)
    }

    /// One line in all, then one per channel and reason.
    public func log(to logger: Logger) {
        logger.notice("messages held at start-up", metadata: ["herald.held": "\(total)"])
        for group in groups {
            logger.warning(
                "messages held: set what is missing, then herald retry --state held",
                metadata: [
                    "herald.channel": "\(group.channel)", "herald.held": "\(group.count)",
                    "herald.reason": "\(LogSafe.redactingPhones(group.reason))",
                ])
        }
    }
}
