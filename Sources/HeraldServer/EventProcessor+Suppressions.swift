import Foundation
import HeraldStore
import Logging

extension EventProcessor {
    /// The batch with every message to a number on the suppression list marked `suppressed`, with
    /// the entry's reason: it is kept in the outbox (its key still stops a second message) and
    /// never sent. One query for the whole batch. A message that failed at planning stays failed;
    /// one held for an unset recipient variable has no number yet (the dispatcher checks it).
    func suppressing(_ batch: [EventCompletion]) async throws -> [EventCompletion] {
        let sendable: Set<OutboxMessage.State> = [.pending, .held]
        let numbers = Set(batch.flatMap { $0.messages.filter { sendable.contains($0.state) }.map(\.recipient) })
            .filter { $0.hasPrefix("+") }
        guard !numbers.isEmpty else { return batch }
        let entries = try await store.suppressions(numbers: numbers.sorted())
        guard !entries.isEmpty else { return batch }
        return batch.map { completion in
            var completion = completion
            completion.messages = completion.messages.map { message in
                guard sendable.contains(message.state),
                    let entry = entries.first(where: {
                        $0.number == message.recipient && $0.applies(to: message.channel)
                    })
                else { return message }
                var suppressed = message
                suppressed.state = .suppressed
                suppressed.nextAttemptAt = nil
                suppressed.lastError = entry.outboxReason
                logger.info(
                    "message suppressed: the recipient is on the suppression list",
                    metadata: [
                        "herald.event_id": "\(completion.eventID)", "herald.rule": "\(message.rule)",
                        "herald.channel": "\(message.channel)", "herald.to": "\(LogSafe.phone(message.recipient))",
                        "herald.reason": "\(LogSafe.redactingPhones(entry.outboxReason))",
                    ])
                return suppressed
            }
            return completion
        }
    }
}
