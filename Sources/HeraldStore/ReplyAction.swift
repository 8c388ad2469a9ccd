import Foundation
import HeraldCore

/// What a customer's keyword reply does to the suppression list: an opt-out adds the sender, an
/// opt-in lifts the entries that came from replies or from the provider's opt-out error (never an
/// operator's). Decided by the channel's `ReplyKeywords` before the store sees the reply.
///
/// Every store applies it by the same rule, inside the transaction that keeps the reply: a keyword
/// reply is applied unless a later one (by the provider's time, else the time it arrived) from the
/// same sender in the same scope is already kept, so a redelivered or late STOP never overrides a
/// newer START, whatever order they arrive in.
public struct ReplyAction: Sendable, Equatable {
    public var action: ReplyKeywords.Action
    /// Every channel, or the channel the reply came on (`opt_out_scope: channel`).
    public var scope: Suppression.Scope

    public init(_ action: ReplyKeywords.Action, scope: Suppression.Scope) {
        self.action = action
        self.scope = scope
    }

    /// The action a reply on `channel` asks for under `keywords`; nil when it is no keyword.
    public init?(reply: Reply, channel: String, keywords: ReplyKeywords) {
        guard let action = keywords.action(for: reply.body) else { return nil }
        self.init(action, scope: keywords.scope == .channel ? .channel(channel) : .allChannels)
    }

    /// The entries an opt-in lifts: a customer can undo what a reply or the provider's opt-out
    /// error put there, never what an operator did.
    public static let liftableSources: [Suppression.Source] = [.reply, .providerError]

    /// The entry an opt-out reply adds.
    static func entry(for reply: ReceiptRow, channel: String, scope: Suppression.Scope, at time: Date) -> Suppression? {
        guard let sender = reply.sender else { return nil }
        let keyword = ReplyKeywords.fold(reply.body ?? "").prefix(40)
        return Suppression(
            number: sender, scope: scope, reason: "replied \"\(keyword)\" on \(channel)", source: .reply,
            createdAt: time)
    }

    /// Whether an opt-in in `scope` lifts `entry`: one of the liftable sources, and in its scope
    /// (an every-channel opt-in lifts the number's entries on every channel).
    func lifts(_ entry: Suppression) -> Bool {
        Self.liftableSources.contains(entry.source) && (scope == .allChannels || entry.scope == scope)
    }
}
