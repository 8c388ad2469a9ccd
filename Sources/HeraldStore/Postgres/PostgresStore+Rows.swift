import Foundation
import HeraldCore
import PostgresNIO

/// A row's columns by name, decoded to the types the store keeps.
struct PostgresColumns {
    let row: PostgresRandomAccessRow

    init(_ row: PostgresRow) { self.row = row.makeRandomAccess() }

    func callAsFunction<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        try row[name].decode(T.self)
    }

    /// An epoch-seconds column as a date.
    func date(_ name: String) throws -> Date { Date(timeIntervalSince1970: try self(name, as: Double.self)) }

    func optionalDate(_ name: String) throws -> Date? {
        try self(name, as: Double?.self).map(Date.init(timeIntervalSince1970:))
    }
}

/// The one place rows of `events`, `orders`, `messages` and `suppressions` become values.
extension PostgresStore {
    static func storedEvent(_ row: PostgresRow) throws -> StoredEvent {
        let column = PostgresColumns(row)
        let headers = StoredHeaders.headers(try column("headers"))
        let body: ByteBuffer = try column("body")
        return StoredEvent(
            id: try column("id"), provider: try column("provider"), dedupeKey: try column("dedupe_key"),
            deliveryID: try column("delivery_id"), receivedAt: try column.date("received_at"),
            remoteAddress: try column("remote_address"), headers: headers, body: Array(body.readableBytesView),
            eventName: try column("event"), orderReference: try column("order_reference"),
            status: try column("status"), previousStatus: try column("previous_status"),
            occurredAt: try column.optionalDate("occurred_at"), parseError: try column("parse_error"),
            fieldProblems: try column("field_problems"), stale: try column("stale"),
            deliveries: try column("deliveries"), processedAt: try column.optionalDate("processed_at"),
            inherited: RememberedValue.values(fromJSON: try column("inherited", as: String?.self)),
            redactedAt: try column.optionalDate("redacted_at"), undecided: try column("undecided"))
    }

    static func orderState(_ row: PostgresRow) throws -> OrderState {
        let column = PostgresColumns(row)
        return OrderState(
            provider: try column("provider"), reference: try column("reference"), status: try column("status"),
            occurredAt: try column.optionalDate("occurred_at"), eventID: try column("event_id", as: Int64.self),
            remembered: RememberedValue.values(fromJSON: try column("remembered", as: String?.self)))
    }

    static func outboxMessage(_ row: PostgresRow) throws -> OutboxMessage {
        let column = PostgresColumns(row)
        return OutboxMessage(
            id: try column("id"), idempotencyKey: try column("idempotency_key"), eventID: try column("event_id"),
            provider: try column("provider"), orderReference: try column("order_reference"),
            rule: try column("rule"), channel: try column("channel"), recipient: try column("recipient"),
            locale: try column("locale"), text: try column("text"), encoding: try column("encoding"),
            segments: try column("segments"),
            state: OutboxMessage.State(rawValue: try column("state")) ?? .failed, attempts: try column("attempts"),
            nextAttemptAt: try column.optionalDate("next_attempt_at"), lastError: try column("last_error"),
            providerMessageID: try column("provider_message_id"), createdAt: try column.date("created_at"),
            whatsapp: WhatsAppTemplateCall(json: try column("whatsapp", as: String?.self)),
            attemptedAt: try column.optionalDate("attempted_at"),
            progress: DeliveryProgress(
                sentAt: try column.optionalDate("sent_at"), deliveredAt: try column.optionalDate("delivered_at"),
                readAt: try column.optionalDate("read_at"), undeliveredAt: try column.optionalDate("undelivered_at"),
                errorCode: try column("delivery_error")))
    }

    static func suppression(_ row: PostgresRow) throws -> Suppression {
        let column = PostgresColumns(row)
        let source: String = try column("source")
        return Suppression(
            number: try column("number"), scope: Suppression.Scope(channel: try column("channel")),
            reason: try column("reason"),
            // Sources this build does not know (a newer version wrote them) read as the strongest.
            source: Suppression.Source(rawValue: source) ?? .operator, createdAt: try column.date("created_at"))
    }
}
