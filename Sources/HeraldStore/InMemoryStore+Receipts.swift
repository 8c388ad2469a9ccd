import Foundation
import HeraldCore

/// Receipts in memory, by the rules the databases follow (`ReceiptRow`, `ReceiptRule`).
extension InMemoryStore {
    public func recordReceipts(_ receipts: [IncomingReceipt], at now: Date, fallbacks: ReceiptFallbacks)
        async throws -> [ReceiptOutcome]
    {
        try checkOpen()
        return receipts.map { insert($0, at: now, fallbacks: fallbacks) }
    }

    private func insert(_ incoming: IncomingReceipt, at now: Date, fallbacks: ReceiptFallbacks) -> ReceiptOutcome {
        guard !receiptRows.contains(where: { $0.channel == incoming.channel && $0.dedupeKey == incoming.dedupeKey })
        else { return .duplicate }
        let row = ReceiptRow(incoming)
        var stored = StoredReceipt(
            id: Int64(receiptRows.count + 1), channel: incoming.channel, dedupeKey: incoming.dedupeKey, kind: row.kind,
            providerMessageID: row.providerMessageID, providerStatus: row.providerStatus,
            idempotencyKey: row.idempotencyKey, errorCode: row.errorCode, sender: row.sender, body: row.body,
            parseError: row.parseError, occurredAt: row.occurredAt, receivedAt: now, optAction: row.optAction,
            optScope: row.optScope)
        defer { receiptRows.append(stored) }
        if row.replyAction != nil { applyReply(row, channel: incoming.channel, at: now) }
        guard row.isStatus, let index = messageIndex(for: row) else { return .recorded(messageID: nil, state: nil) }
        var message = outbox[index].message
        stored.messageID = message.id
        guard let change = row.change(from: message.state, at: now) else {
            return .recorded(messageID: message.id, state: message.state)
        }
        var effects = ReceiptEffects(
            sentToDelivered: change.sentToDelivered(
                sentAt: message.progress.sentAt, deliveredAt: message.progress.deliveredAt))
        switch change.stepColumn {
        case "sent_at": message.progress.sentAt = message.progress.sentAt ?? change.at
        case "delivered_at": message.progress.deliveredAt = message.progress.deliveredAt ?? change.at
        case "read_at": message.progress.readAt = message.progress.readAt ?? change.at
        case "undelivered_at": message.progress.undeliveredAt = message.progress.undeliveredAt ?? change.at
        default: break
        }
        if change.stepColumn != nil {
            message.progress.errorCode = change.errorCode ?? message.progress.errorCode
            message.providerMessageID = message.providerMessageID ?? row.providerMessageID
        }
        if let state = change.state {
            message.state = state
            message.nextAttemptAt = nil
            outbox[index].leaseExpiresAt = nil
        }
        outbox[index].message = message
        if change.state == .undelivered {
            effects.fallbackMessageID = planFallback(replacing: message, errorCode: row.errorCode, fallbacks, now)
        }
        return .recorded(messageID: message.id, state: message.state, effects: effects)
    }

    /// The message a status is about: by the idempotency key it carries, else by the provider's id.
    private func messageIndex(for row: ReceiptRow) -> Int? {
        if let key = row.idempotencyKey, let index = outbox.firstIndex(where: { $0.message.idempotencyKey == key }) {
            return index
        }
        guard let id = row.providerMessageID else { return nil }
        return outbox.lastIndex { $0.message.providerMessageID == id }
    }

    /// Applies a keyword reply unless a later one of the same sender and scope is kept (`ReplyAction`).
    private func applyReply(_ row: ReceiptRow, channel: String, at now: Date) {
        guard let reply = row.replyAction, let sender = row.sender else { return }
        let time = row.replyTime(receivedAt: now)
        let newer = receiptRows.contains {
            $0.kind == "reply" && $0.sender == sender && $0.optAction != nil && $0.optScope == reply.scope.channel
                && ($0.occurredAt ?? $0.receivedAt) > time
        }
        guard !newer else { return }
        switch reply.action {
        case .optOut:
            if let entry = ReplyAction.entry(for: row, channel: channel, scope: reply.scope, at: time) {
                _ = add(entry)
            }
        case .optIn:
            suppressionList.removeAll { $0.entry.number == sender && reply.lifts($0.entry) }
        }
    }

    public func replies(sender: String?, limit: Int) async throws -> [StoredReceipt] {
        try checkOpen()
        let replies = receiptRows.filter { $0.kind == "reply" && (sender == nil || $0.sender == sender) }
        let sorted = replies.sorted { a, b in
            let (ta, tb) = (a.occurredAt ?? a.receivedAt, b.occurredAt ?? b.receivedAt)
            return ta == tb ? a.id > b.id : ta > tb
        }
        return Array(sorted.prefix(limit))
    }

    public func receipts(channel: String?, limit: Int) async throws -> [StoredReceipt] {
        try checkOpen()
        return Array(receiptRows.reversed().filter { channel == nil || $0.channel == channel }.prefix(limit))
    }

    /// The fallback of `message`, just moved to undelivered, queued once by its key.
    private func planFallback(
        replacing message: OutboxMessage, errorCode: String?, _ fallbacks: ReceiptFallbacks, _ now: Date
    ) -> Int64? {
        guard let planned = fallbacks.message(replacing: message, errorCode: errorCode, at: now),
            !idempotencyKeys.contains(planned.idempotencyKey)
        else { return nil }
        idempotencyKeys.insert(planned.idempotencyKey)
        var row = planned
        row.id = Int64(outbox.count + 1)
        outbox.append(OutboxRow(message: row))
        return row.id
    }
}
