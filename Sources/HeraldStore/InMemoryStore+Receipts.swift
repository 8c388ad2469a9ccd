import Foundation
import HeraldCore

/// Receipts in memory, by the rules the databases follow (`ReceiptRow`, `ReceiptRule`).
extension InMemoryStore {
    public func recordReceipts(_ receipts: [IncomingReceipt], at now: Date) async throws -> [ReceiptOutcome] {
        try checkOpen()
        return receipts.map { insert($0, at: now) }
    }

    private func insert(_ incoming: IncomingReceipt, at now: Date) -> ReceiptOutcome {
        guard !receiptRows.contains(where: { $0.channel == incoming.channel && $0.dedupeKey == incoming.dedupeKey })
        else { return .duplicate }
        let row = ReceiptRow(incoming)
        var stored = StoredReceipt(
            id: Int64(receiptRows.count + 1), channel: incoming.channel, dedupeKey: incoming.dedupeKey, kind: row.kind,
            providerMessageID: row.providerMessageID, providerStatus: row.providerStatus,
            idempotencyKey: row.idempotencyKey, errorCode: row.errorCode, sender: row.sender, body: row.body,
            parseError: row.parseError, occurredAt: row.occurredAt, receivedAt: now)
        defer { receiptRows.append(stored) }
        guard row.isStatus, let index = messageIndex(for: row) else { return .recorded(messageID: nil, state: nil) }
        var message = outbox[index].message
        stored.messageID = message.id
        guard let change = row.change(from: message.state, at: now) else {
            return .recorded(messageID: message.id, state: message.state)
        }
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
        return .recorded(messageID: message.id, state: message.state)
    }

    /// The message a status is about: by the idempotency key it carries, else by the provider's id.
    private func messageIndex(for row: ReceiptRow) -> Int? {
        if let key = row.idempotencyKey, let index = outbox.firstIndex(where: { $0.message.idempotencyKey == key }) {
            return index
        }
        guard let id = row.providerMessageID else { return nil }
        return outbox.lastIndex { $0.message.providerMessageID == id }
    }

    public func receipts(channel: String?, limit: Int) async throws -> [StoredReceipt] {
        try checkOpen()
        return Array(receiptRows.reversed().filter { channel == nil || $0.channel == channel }.prefix(limit))
    }
}
