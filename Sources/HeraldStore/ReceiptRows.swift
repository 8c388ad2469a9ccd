import Foundation
import HeraldCore

/// A receipt's columns in the `receipts` table, the same for every store.
struct ReceiptRow {
    var kind: String
    var providerMessageID: String?
    var providerStatus: String?
    var idempotencyKey: String?
    var errorCode: String?
    var sender: String?
    var body: String?
    var raw: [UInt8]?
    var parseError: String?
    var occurredAt: Date?
    /// What a status says, when Herald knows it.
    var state: DeliveryState?
    /// A keyword reply's action (`opt_action`, `opt_scope` columns).
    var replyAction: ReplyAction?
    var optAction: String? { replyAction?.action.rawValue }
    var optScope: String? { replyAction?.scope.channel }

    init(_ incoming: IncomingReceipt) {
        kind = "unparsed"
        raw = incoming.unparsedBody
        parseError = incoming.parseError
        guard let receipt = incoming.receipt else { return }
        occurredAt = receipt.occurredAt
        switch receipt.content {
        case .status(let report):
            kind = "status"
            providerMessageID = report.providerMessageID
            providerStatus = report.providerStatus
            idempotencyKey = report.idempotencyKey
            errorCode = report.errorCode
            state = report.state
        case .reply(let reply):
            kind = "reply"
            providerMessageID = reply.providerMessageID
            sender = reply.from
            body = reply.body
            replyAction = incoming.replyAction
        }
    }

    /// When a keyword reply counts in the order of a sender's STOPs and STARTs: the provider's time,
    /// else when it arrived.
    func replyTime(receivedAt now: Date) -> Date { occurredAt ?? now }

    /// Whether the receipt names a message to apply to.
    var isStatus: Bool { kind == "status" }

    /// How applying this status changes a message now in `current`; nil: the message is left alone
    /// (held and suppressed messages never reached a provider, so a receipt cannot be about them).
    func change(from current: OutboxMessage.State, at now: Date) -> MessageChange? {
        guard current != .held, current != .suppressed else { return nil }
        guard let state else { return MessageChange(state: nil, stepColumn: nil, at: now, errorCode: nil) }
        let column: String? =
            switch state {
            case .sent: "sent_at"
            case .delivered: "delivered_at"
            case .read: "read_at"
            case .undelivered: "undelivered_at"
            }
        let next = ReceiptRule.next(from: current, on: state)
        // A stale `undelivered` about a message delivered or read is no step it went through.
        if state == .undelivered, next == nil, current != .undelivered {
            return MessageChange(state: nil, stepColumn: nil, at: now, errorCode: nil)
        }
        return MessageChange(
            state: next, stepColumn: column, at: occurredAt ?? now, errorCode: state == .undelivered ? errorCode : nil)
    }
}

/// What a status does to its message: a new state (nil: unchanged) and the time of its step,
/// written only when the step has none yet (the first report of a step is when it happened).
struct MessageChange {
    var state: OutboxMessage.State?
    /// `sent_at`, `delivered_at`, `read_at` or `undelivered_at`; nil for a status Herald does not know.
    var stepColumn: String?
    var at: Date
    var errorCode: String?
}

extension MessageChange {
    /// Seconds from `sentAt` to this change's delivered step, when it records one the message did
    /// not have yet (`deliveredAt` nil) and the sent time is known; clamped at zero, as Meta's
    /// timestamps come from its clock, not Herald's.
    func sentToDelivered(sentAt: Date?, deliveredAt: Date?) -> TimeInterval? {
        guard stepColumn == "delivered_at", deliveredAt == nil, let sentAt else { return nil }
        return max(0, at.timeIntervalSince(sentAt))
    }
}
