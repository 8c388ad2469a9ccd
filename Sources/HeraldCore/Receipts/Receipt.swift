import Foundation

/// What a provider tells Herald after a send, on `/receipts/{channel}`: a message's delivery
/// status, or a text the customer sent back. One callback may hold several (Meta batches them).
public struct Receipt: Sendable, Equatable {
    public enum Content: Sendable, Equatable {
        case status(StatusReport)
        case reply(Reply)
    }

    /// The provider's identity of this receipt, unique per channel: Twilio `MessageSid` for a reply,
    /// `MessageSid` + `MessageStatus` for a status; Meta's message id for a reply, status id +
    /// status for a status. A redelivered callback has the same key.
    public var dedupeKey: String
    public var content: Content
    /// When the provider says it happened (Meta's `timestamp`); nil when the provider does not
    /// say (Twilio status callbacks), and the time of arrival stands in.
    public var occurredAt: Date?

    public init(dedupeKey: String, content: Content, occurredAt: Date? = nil) {
        self.dedupeKey = dedupeKey
        self.content = content
        self.occurredAt = occurredAt
    }
}

/// A delivery status about one message Herald sent.
public struct StatusReport: Sendable, Equatable {
    /// The provider's id of the message (Twilio `SM…`, Meta `wamid…`).
    public var providerMessageID: String
    /// The status as the provider wrote it (`delivered`, `failed`, …).
    public var providerStatus: String
    /// What the status means to the outbox; nil for a status Herald does not know (kept, not applied).
    public var state: DeliveryState?
    /// The carrier's or WhatsApp's error code of an `undelivered`/`failed` status.
    public var errorCode: String?
    /// Meta's error title; Twilio sends none in a callback.
    public var errorTitle: String?
    /// The idempotency key the send carried (Twilio: `?key=` of the StatusCallback URL; Meta:
    /// `biz_opaque_callback_data`), which finds the message even when its send answer was lost.
    public var idempotencyKey: String?

    public init(
        providerMessageID: String, providerStatus: String, state: DeliveryState?, errorCode: String? = nil,
        errorTitle: String? = nil, idempotencyKey: String? = nil
    ) {
        self.providerMessageID = providerMessageID
        self.providerStatus = providerStatus
        self.state = state
        self.errorCode = errorCode
        self.errorTitle = errorTitle
        self.idempotencyKey = idempotencyKey
    }
}

/// A text a customer sent to the channel's number.
public struct Reply: Sendable, Equatable {
    public var providerMessageID: String
    /// The sender in E.164 (`+212…`), from Twilio's `From` (`whatsapp:` removed) or Meta's digits.
    public var from: String
    public var body: String

    public init(providerMessageID: String, from: String, body: String) {
        self.providerMessageID = providerMessageID
        self.from = from
        self.body = body
    }
}

/// The delivery states receipts move a sent message through.
///
/// Ordered by how much they prove, so a late receipt never moves a message backwards:
/// `sent < undelivered < delivered < read`. A `delivered` outranks `undelivered` because it is proof
/// the customer's phone got the message (a read proves it too), while an `undelivered` that arrives
/// after a `delivered` can only be stale.
public enum DeliveryState: String, Sendable, Equatable, CaseIterable, Comparable {
    /// The provider has the message (Twilio `queued`, `accepted`, `sending`, `sent`; Meta `sent`).
    case sent
    /// The carrier or WhatsApp gave up (Twilio `undelivered`, `failed`; Meta `failed`).
    case undelivered
    case delivered
    case read

    public var rank: Int {
        switch self {
        case .sent: 1
        case .undelivered: 2
        case .delivered: 3
        case .read: 4
        }
    }

    public static func < (lhs: DeliveryState, rhs: DeliveryState) -> Bool { lhs.rank < rhs.rank }
}
