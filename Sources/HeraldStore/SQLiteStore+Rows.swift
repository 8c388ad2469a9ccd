import Foundation
import GRDB
import HeraldCore

/// The one place rows of `events`, `orders` and `messages` become values.
extension SQLiteStore {
    static func storedEvent(_ row: Row) -> StoredEvent {
        let headers = StoredHeaders.headers(row["headers"])
        let body: Data = row["body"]
        return StoredEvent(
            id: row["id"], provider: row["provider"], dedupeKey: row["dedupe_key"], deliveryID: row["delivery_id"],
            receivedAt: Date(timeIntervalSince1970: row["received_at"]), remoteAddress: row["remote_address"],
            headers: headers, body: Array(body), eventName: row["event"], orderReference: row["order_reference"],
            status: row["status"], previousStatus: row["previous_status"],
            occurredAt: (row["occurred_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            parseError: row["parse_error"], fieldProblems: row["field_problems"], stale: row["stale"],
            deliveries: row["deliveries"],
            processedAt: (row["processed_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            inherited: RememberedValue.values(fromJSON: row["inherited"]),
            redactedAt: (row["redacted_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            undecided: row["undecided"])
    }

    static func orderState(_ row: Row) -> OrderState {
        OrderState(
            provider: row["provider"], reference: row["reference"], status: row["status"],
            occurredAt: (row["occurred_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            eventID: row["event_id"], remembered: RememberedValue.values(fromJSON: row["remembered"]))
    }

    static func outboxMessage(_ row: Row) -> OutboxMessage {
        OutboxMessage(
            id: row["id"], idempotencyKey: row["idempotency_key"], eventID: row["event_id"], provider: row["provider"],
            orderReference: row["order_reference"], rule: row["rule"], channel: row["channel"],
            recipient: row["recipient"],
            locale: row["locale"], text: row["text"], encoding: row["encoding"], segments: row["segments"],
            state: OutboxMessage.State(rawValue: row["state"]) ?? .failed, attempts: row["attempts"],
            nextAttemptAt: (row["next_attempt_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            lastError: row["last_error"], providerMessageID: row["provider_message_id"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            whatsapp: WhatsAppTemplateCall(json: row["whatsapp"]),
            attemptedAt: (row["attempted_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            progress: DeliveryProgress(
                sentAt: (row["sent_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
                deliveredAt: (row["delivered_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
                readAt: (row["read_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
                undeliveredAt: (row["undelivered_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
                errorCode: row["delivery_error"]))
    }
}
