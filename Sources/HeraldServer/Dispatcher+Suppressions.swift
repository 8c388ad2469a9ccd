import Foundation
import HeraldStore
import Logging

/// The suppression list's entries for the recipients of one claimed batch, read in one query
/// before the batch is sent, rather than one lookup per message: on PostgreSQL those were two
/// round trips per message (the number's stored forms, then its entry), most of a message's
/// database work once claims and outcomes go by the batch.
struct SuppressionSnapshot: Sendable {
    /// The numbers read, each with its entries (none: it may be sent to).
    var entries: [String: [Suppression]]

    /// The entry that stops a message to `number` on `channel` (`Suppression.stopping`, as
    /// `SuppressionList.suppression(for:channel:)` answers); `.notRead` for a number the snapshot
    /// did not read (a recipient resolved after the claim).
    func lookUp(_ number: String, channel: String) -> Lookup {
        guard let listed = entries[number] else { return .notRead }
        return .read(Suppression.stopping(listed, on: channel))
    }

    enum Lookup {
        case read(Suppression?)
        case notRead
    }
}

extension Dispatcher {
    /// One read of the list for `messages`' recipients; nil when it cannot be read (each message
    /// then asks for itself, and waits when that fails too).
    func suppressionSnapshot(for messages: [OutboxMessage]) async -> SuppressionSnapshot? {
        let numbers = Set(messages.map(\.recipient).filter { !$0.contains("${") && !$0.isEmpty })
        guard !numbers.isEmpty else { return SuppressionSnapshot(entries: [:]) }
        do {
            var entries = Dictionary(uniqueKeysWithValues: numbers.map { ($0, [Suppression]()) })
            for entry in try await store.suppressions(numbers: numbers.sorted()) {
                entries[entry.number, default: []].append(entry)
            }
            return SuppressionSnapshot(entries: entries)
        } catch {
            logger.error("could not read the suppression list", error: error)
            return nil
        }
    }

    /// The update for a message whose recipient is on the suppression list (`suppressed`, with the
    /// entry's reason), nil when it may be sent. Checked at every attempt: a number may opt out
    /// while its messages wait in the queue. When the list cannot be read, the message waits
    /// (without using an attempt) rather than risk a send to a number that opted out.
    func suppressedUpdate(for message: OutboxMessage, snapshot: SuppressionSnapshot?) async -> DeliveryUpdate? {
        let entry: Suppression?
        if let snapshot, case .read(let read) = snapshot.lookUp(message.recipient, channel: message.channel) {
            entry = read
        } else {
            do {
                entry = try await store.suppression(for: message.recipient, channel: message.channel)
            } catch {
                logger.error("could not read the suppression list", error: error)
                return DeliveryUpdate(
                    state: .pending, nextAttemptAt: clock().addingTimeInterval(30), lastError: message.lastError)
            }
        }
        return entry.map { DeliveryUpdate(state: .suppressed, lastError: $0.outboxReason) }
    }

    /// The entry a provider's opt-out error (Twilio 21610) adds: the number, on every channel.
    func optOut(of message: OutboxMessage, _ reason: String, at now: Date) -> Suppression {
        Suppression(
            number: message.recipient, scope: .allChannels, reason: reason, source: .providerError, createdAt: now)
    }
}
