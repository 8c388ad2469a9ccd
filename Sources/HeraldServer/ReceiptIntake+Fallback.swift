import HeraldStore
import Logging

/// A receipt that planned a fallback message (`ReceiptFallbacks`): the dispatcher is woken to
/// send it now (on a shared database the other instances hear of it through the store's
/// `observeChanges`, notified in the receipt's transaction).
extension ReceiptIntake {
    func wakeForFallbacks(_ outcomes: [ReceiptOutcome], logger: Logger, metadata: Logger.Metadata) {
        let planned = outcomes.compactMap { outcome -> (Int64?, Int64)? in
            guard case .recorded(let messageID, _, let effects) = outcome, let fallback = effects.fallbackMessageID
            else { return nil }
            return (messageID, fallback)
        }
        guard !planned.isEmpty else { return }
        for (original, fallback) in planned {
            logger.notice(
                "customer out of reach on this channel: fallback message planned",
                metadata: metadata.merging([
                    "herald.message_id": "\(original.map(String.init) ?? "-")",
                    "herald.fallback_message_id": "\(fallback)",
                ]) { $1 })
        }
        messagesQueued?.signal()
    }
}
