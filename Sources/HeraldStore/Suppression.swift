import Foundation
import GRDB

/// A number Herald sends nothing to: the customer opted out (a STOP reply, Twilio's 21610) or the
/// operator put it on the list. A message to it ends `suppressed` and reaches no provider.
public struct Suppression: Sendable, Equatable {
    /// Which messages the entry stops.
    public enum Scope: Sendable, Hashable, CustomStringConvertible {
        /// Every channel: the default, and what a provider's opt-out error means.
        case allChannels
        /// Only messages on this channel (its name in rules.yaml).
        case channel(String)

        /// The channel's name, nil for every channel (the `channel` column).
        public var channel: String? {
            if case .channel(let name) = self { return name }
            return nil
        }

        public init(channel: String?) {
            self = channel.map(Scope.channel) ?? .allChannels
        }

        public var description: String { channel ?? "all channels" }
    }

    /// Who put the number on the list. An opt-in reply (START) lifts `providerError` and `reply`
    /// entries, never an operator's.
    public enum Source: String, Sendable, CaseIterable {
        /// The provider refused the send because the recipient opted out (Twilio 21610).
        case providerError = "provider-error"
        /// `herald suppressions add`.
        case `operator`
        /// The customer's STOP reply (receipts).
        case reply
    }

    /// E.164.
    public var number: String
    public var scope: Scope
    /// Why, in words an operator reads (`twilio 21610: Attempt to send to unsubscribed recipient`).
    public var reason: String
    public var source: Source
    public var createdAt: Date

    public init(number: String, scope: Scope = .allChannels, reason: String, source: Source, createdAt: Date) {
        self.number = number
        self.scope = scope
        self.reason = reason
        self.source = source
        self.createdAt = createdAt
    }

    /// Whether the entry stops messages on `channel`.
    public func applies(to channel: String) -> Bool {
        scope == .allChannels || scope == .channel(channel)
    }

    /// Of one number's `entries`, the one that stops a message on `channel`: the every-channel
    /// entry first (it is the one an operator lifts), else the channel's own; nil when none does.
    public static func stopping(_ entries: [Suppression], on channel: String) -> Suppression? {
        let applying = entries.filter { $0.applies(to: channel) }
        return applying.first { $0.scope == .allChannels } ?? applying.first
    }
}

/// The numbers Herald sends nothing to.
public protocol SuppressionList: Sendable {
    /// Puts `entry` on the list; returns false when the number was already on it for that scope.
    /// An operator's entry replaces the one there (an opt-in reply never lifts it); any other
    /// entry leaves an existing one as it is.
    @discardableResult
    func addSuppression(_ entry: Suppression) async throws -> Bool
    /// Takes the number's entries for `scope` (all of them when nil) off the list and returns them.
    @discardableResult
    func removeSuppressions(number: String, scope: Suppression.Scope?) async throws -> [Suppression]
    /// The list, newest first; only the entries of `numbers` when given.
    func suppressions(numbers: [String]?) async throws -> [Suppression]
    /// The entry that stops a message to `number` on `channel`, nil when it may be sent. An
    /// every-channel entry comes before a channel's own: it is the one an operator lifts.
    func suppression(for number: String, channel: String) async throws -> Suppression?
}

extension SuppressionList {
    /// Whether a message to `number` on `channel` must not be sent.
    public func isSuppressed(_ number: String, channel: String) async throws -> Bool {
        try await suppression(for: number, channel: channel) != nil
    }
}

/// The `suppressions` table's rows (migration `v7-suppressions`); the one place they map to values.
extension Suppression: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "suppressions"

    public init(row: Row) throws {
        let sourceName: String = row["source"]
        self.init(
            number: row["number"], scope: Scope(channel: row["channel"]), reason: row["reason"],
            // Sources this build does not know (a newer version wrote them) read as the strongest.
            source: Source(rawValue: sourceName) ?? .operator,
            createdAt: Date(timeIntervalSince1970: row["created_at"]))
    }

    public func encode(to container: inout PersistenceContainer) throws {
        container["number"] = number
        container["channel"] = scope.channel
        container["reason"] = reason
        container["source"] = source.rawValue
        container["created_at"] = createdAt.timeIntervalSince1970
    }
}

extension Suppression {
    /// What a message stopped by this entry records as its reason (`herald messages` shows it).
    public var outboxReason: String {
        "suppressed (\(source.rawValue)\(scope == .allChannels ? "" : ", \(scope)")): \(reason)"
    }
}
