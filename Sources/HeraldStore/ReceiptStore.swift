import Crypto
import Foundation
import HeraldCore

/// A receipt as it reaches the store: read (`receipt`) or kept with the reason it could not be.
public struct IncomingReceipt: Sendable, Equatable {
    public var channel: String
    public var receipt: Receipt?
    /// Why a correctly signed body could not be read; the body is then kept in `unparsedBody`.
    public var parseError: String?
    public var unparsedBody: [UInt8]?
    /// The identity the store deduplicates by, per channel (`Receipt.dedupeKey`; for a body that
    /// did not parse, its SHA-256, so the provider's retries of it are duplicates).
    public var dedupeKey: String
    /// What a keyword reply (STOP, START) does to the suppression list; nil for any other receipt.
    public var replyAction: ReplyAction?

    public init(channel: String, receipt: Receipt, replyAction: ReplyAction? = nil) {
        self.channel = channel
        self.receipt = receipt
        self.dedupeKey = receipt.dedupeKey
        self.replyAction = replyAction
    }

    public init(channel: String, unparsedBody: [UInt8], parseError: String) {
        self.channel = channel
        self.parseError = parseError
        self.unparsedBody = unparsedBody
        self.dedupeKey = "unparsed " + Hex.encode(SHA256.hash(data: unparsedBody))
    }
}

/// What recording one receipt did.
public enum ReceiptOutcome: Sendable, Equatable {
    /// Seen before on this channel (a provider's retry): nothing changed.
    case duplicate
    /// Kept; a status applied to the message `messageID` (nil: a reply, a body that did not parse,
    /// or a message Herald does not know), whose state is now `state` (unchanged when the receipt
    /// was stale or its status unknown), with what else it did (`effects`).
    case recorded(messageID: Int64?, state: OutboxMessage.State?, effects: ReceiptEffects = ReceiptEffects())
}

/// What applying a status did beyond the message's state, for metrics and the dispatcher.
public struct ReceiptEffects: Sendable, Equatable {
    /// Seconds from the message's send to its delivery, when this receipt recorded its delivered
    /// step (the first report of it) and its sent time is known; never negative.
    public var sentToDelivered: TimeInterval?
    /// The message planned on the rule's fallback channel (`ReceiptFallbacks`), when this receipt
    /// moved its message to undelivered with a code saying the customer is out of reach.
    public var fallbackMessageID: Int64?

    public init(sentToDelivered: TimeInterval? = nil, fallbackMessageID: Int64? = nil) {
        self.sentToDelivered = sentToDelivered
        self.fallbackMessageID = fallbackMessageID
    }
}

/// A receipt as the store keeps it (`herald replies`, diagnostics).
public struct StoredReceipt: Sendable, Equatable {
    public var id: Int64
    public var channel: String
    public var dedupeKey: String
    /// `status`, `reply` or `unparsed`.
    public var kind: String
    public var providerMessageID: String?
    public var providerStatus: String?
    public var idempotencyKey: String?
    public var errorCode: String?
    public var sender: String?
    public var body: String?
    public var parseError: String?
    /// The provider's time, when it gave one.
    public var occurredAt: Date?
    public var receivedAt: Date
    /// The message a status was applied to.
    public var messageID: Int64?
    /// A keyword reply's action (`opt-out`, `opt-in`) and scope (a channel's name; nil: every channel).
    public var optAction: String?
    public var optScope: String?

    public init(
        id: Int64, channel: String, dedupeKey: String, kind: String, providerMessageID: String? = nil,
        providerStatus: String? = nil, idempotencyKey: String? = nil, errorCode: String? = nil, sender: String? = nil,
        body: String? = nil, parseError: String? = nil, occurredAt: Date? = nil, receivedAt: Date,
        messageID: Int64? = nil, optAction: String? = nil, optScope: String? = nil
    ) {
        self.id = id
        self.channel = channel
        self.dedupeKey = dedupeKey
        self.kind = kind
        self.providerMessageID = providerMessageID
        self.providerStatus = providerStatus
        self.idempotencyKey = idempotencyKey
        self.errorCode = errorCode
        self.sender = sender
        self.body = body
        self.parseError = parseError
        self.occurredAt = occurredAt
        self.receivedAt = receivedAt
        self.messageID = messageID
        self.optAction = optAction
        self.optScope = optScope
    }
}

/// Receipts from `/receipts/{channel}`: kept once per provider id, and the statuses applied to
/// the outbox in the same transaction, so the provider's 200 follows a commit.
public protocol ReceiptStore: Sendable {
    /// Records the receipts of one callback in one transaction, each once per channel and
    /// `dedupeKey`. A new status is applied to its message, found by its idempotency key when it
    /// carries one, else by the provider's message id; states never move backwards, and the time
    /// of each step (`delivered`, `read`, `undelivered`) is kept once. Outcomes are in input order.
    /// A status that moves a message to `undelivered` with a code in `ReceiptFallbacks.unreachableCodes`
    /// plans the rule's fallback message in the same transaction, once (its key is derived from the
    /// message's); on a shared database the other instances are told messages were queued.
    func recordReceipts(_ receipts: [IncomingReceipt], at now: Date, fallbacks: ReceiptFallbacks) async throws
        -> [ReceiptOutcome]
    /// Kept receipts of a channel (all channels when nil), most recent first (those of one
    /// `recordReceipts` call in no particular order among themselves).
    func receipts(channel: String?, limit: Int) async throws -> [StoredReceipt]
    /// Kept replies (keywords and others), most recent first; only those from `sender` (E.164) when given.
    func replies(sender: String?, limit: Int) async throws -> [StoredReceipt]
}

extension ReceiptStore {
    /// Records receipts without planning fallbacks (no rules at hand: tests, tools).
    public func recordReceipts(_ receipts: [IncomingReceipt], at now: Date) async throws -> [ReceiptOutcome] {
        try await recordReceipts(receipts, at: now, fallbacks: .none)
    }
}

/// When a message went through each delivery step, as receipts told (the outbox's columns
/// `sent_at`, `delivered_at`, `read_at`, `undelivered_at`, `delivery_error`).
public struct DeliveryProgress: Sendable, Equatable {
    public var sentAt: Date?
    public var deliveredAt: Date?
    public var readAt: Date?
    public var undeliveredAt: Date?
    /// The carrier's or WhatsApp's error code of an `undelivered` receipt.
    public var errorCode: String?

    public init(
        sentAt: Date? = nil, deliveredAt: Date? = nil, readAt: Date? = nil, undeliveredAt: Date? = nil,
        errorCode: String? = nil
    ) {
        self.sentAt = sentAt
        self.deliveredAt = deliveredAt
        self.readAt = readAt
        self.undeliveredAt = undeliveredAt
        self.errorCode = errorCode
    }
}

/// The one rule every store applies a status by, so the three cannot disagree.
public enum ReceiptRule {
    /// The states a receipt leaves for the dispatcher's later outcome alone (`record` keeps them).
    public static let deliveryStates: Set<OutboxMessage.State> = [.delivered, .undelivered, .read]

    /// The state a message in `current` moves to on a receipt saying `state`; nil: it stays.
    ///
    /// A receipt proves the provider has the message, so one that is `pending`, `sending`,
    /// `unknown` (the send's answer was lost) or `failed` (Herald gave up on an answer it never
    /// got) takes the receipt's state and is never sent again; `held` and `suppressed` messages were
    /// never handed to a provider and stay. Otherwise a state only moves forward (`DeliveryState`'s
    /// order), so a late `sent` after `delivered` changes nothing.
    public static func next(from current: OutboxMessage.State, on state: DeliveryState) -> OutboxMessage.State? {
        let target = OutboxMessage.State(state)
        switch current {
        case .pending, .sending, .unknown, .failed: return target
        case .held, .suppressed: return nil
        case .sent, .delivered, .undelivered, .read:
            guard let known = DeliveryState(current) else { return nil }
            return state > known ? target : nil
        }
    }
}

extension OutboxMessage.State {
    init(_ state: DeliveryState) {
        switch state {
        case .sent: self = .sent
        case .delivered: self = .delivered
        case .undelivered: self = .undelivered
        case .read: self = .read
        }
    }
}

extension DeliveryState {
    init?(_ state: OutboxMessage.State) {
        switch state {
        case .sent: self = .sent
        case .delivered: self = .delivered
        case .undelivered: self = .undelivered
        case .read: self = .read
        default: return nil
        }
    }
}
