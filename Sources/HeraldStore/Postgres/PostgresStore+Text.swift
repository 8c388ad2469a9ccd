import Foundation
import HeraldCore

/// PostgreSQL's text cannot hold U+0000 (SQLite's can), and a webhook may carry one (`"\u0000"`
/// in its JSON). Bound as is, it would fail its whole transaction: a group-commit batch of other
/// webhooks, or the processor's batch, again at every retry. So every text from outside is
/// stored with U+0000 replaced by U+FFFD, the way undecodable bytes read; the raw body (BYTEA)
/// keeps it.
extension String {
    var storableInPostgres: String {
        contains("\u{0}") ? replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : self
    }
}

extension Optional where Wrapped == String {
    var storableInPostgres: String? { map(\.storableInPostgres) }
}

extension IncomingEvent {
    var storableInPostgres: IncomingEvent {
        var event = self
        event.provider = provider.storableInPostgres
        event.dedupeKey = dedupeKey.storableInPostgres
        event.deliveryID = deliveryID.storableInPostgres
        event.remoteAddress = remoteAddress.storableInPostgres
        event.eventName = eventName.storableInPostgres
        event.orderReference = orderReference.storableInPostgres
        event.status = status.storableInPostgres
        event.parseError = parseError.storableInPostgres
        return event
    }
}

extension EventDecision {
    var storableInPostgres: EventDecision {
        var decision = self
        decision.eventName = eventName.storableInPostgres
        decision.status = status.storableInPostgres
        decision.previousStatus = previousStatus.storableInPostgres
        decision.parseError = parseError.storableInPostgres
        decision.fieldProblems = fieldProblems.storableInPostgres
        if var order {
            order.provider = order.provider.storableInPostgres
            order.reference = order.reference.storableInPostgres
            order.status = order.status.storableInPostgres
            decision.order = order
        }
        return decision
    }
}

extension OutboxMessage {
    var storableInPostgres: OutboxMessage {
        var message = self
        message.idempotencyKey = idempotencyKey.storableInPostgres
        message.provider = provider.storableInPostgres
        message.orderReference = orderReference.storableInPostgres
        message.rule = rule.storableInPostgres
        message.channel = channel.storableInPostgres
        message.recipient = recipient.storableInPostgres
        message.locale = locale.storableInPostgres
        message.text = text.storableInPostgres
        message.encoding = encoding.storableInPostgres
        message.lastError = lastError.storableInPostgres
        message.providerMessageID = providerMessageID.storableInPostgres
        return message
    }
}

extension DeliveryUpdate {
    var storableInPostgres: DeliveryUpdate {
        var update = self
        update.lastError = lastError.storableInPostgres
        update.providerMessageID = providerMessageID.storableInPostgres
        update.channel = channel.storableInPostgres
        update.recipient = recipient.storableInPostgres
        return update
    }
}

extension Suppression {
    var storableInPostgres: Suppression {
        var entry = self
        entry.number = number.storableInPostgres
        entry.reason = reason.storableInPostgres
        if case .channel(let name) = scope { entry.scope = .channel(name.storableInPostgres) }
        return entry
    }
}
