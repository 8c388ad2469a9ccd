import Foundation
import HeraldStore
import Logging

extension Dispatcher {
    /// The update for a message whose recipient is on the suppression list (`suppressed`, with the
    /// entry's reason), nil when it may be sent. Checked at every attempt: a number may opt out
    /// while its messages wait in the queue. When the list cannot be read, the message waits
    /// (without using an attempt) rather than risk a send to a number that opted out.
    func suppressedUpdate(for message: OutboxMessage) async -> DeliveryUpdate? {
        do {
            guard let entry = try await store.suppression(for: message.recipient, channel: message.channel) else {
                return nil
            }
            return DeliveryUpdate(state: .suppressed, lastError: entry.outboxReason)
        } catch {
            logger.error("could not read the suppression list", error: error)
            return DeliveryUpdate(
                state: .pending, nextAttemptAt: clock().addingTimeInterval(30), lastError: message.lastError)
        }
    }

    /// The entry a provider's opt-out error (Twilio 21610) adds: the number, on every channel.
    func optOut(of message: OutboxMessage, _ reason: String, at now: Date) -> Suppression {
        Suppression(
            number: message.recipient, scope: .allChannels, reason: reason, source: .providerError, createdAt: now)
    }
}
