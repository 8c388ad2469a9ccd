import Foundation

/// `herald dry-run --format json`'s line written straight into the output buffer: the same bytes
/// as building the line's `JSONValue` tree (`jsonValue`) and serializing it, without the tree.
///
/// Measured (perf, 20 000 envelopes): building the tree — an array of members per object, a
/// string per key, an enum box per value — then walking it took 12 % of a dry-run, most of it
/// allocation, retain and release. `DryRunJSONLineTests` holds both to the same bytes.
extension DryRunResult {
    public func appendJSONLine(to out: inout [UInt8]) {
        var line = JSONLine(out: out)
        out = []  // `line` owns the buffer meanwhile, so appends do not copy it.
        line.raw("{\"input\":")
        line.string(input)
        line.raw(",\"provider\":")
        line.string(provider)
        line.raw(",\"verification\":")
        line.string(verification.rawValue)
        line.raw(",\"event\":")
        if let event { event.writeJSON(into: &line) } else { line.raw("null") }
        line.raw(",\"rules\":[")
        for (index, rule) in rules.enumerated() {
            line.raw(index == 0 ? "{\"id\":" : ",{\"id\":")
            line.string(rule.id)
            line.raw(rule.matched ? ",\"matched\":true,\"reason\":" : ",\"matched\":false,\"reason\":")
            line.string(rule.reason)
            line.raw("}")
        }
        line.raw("],\"messages\":[")
        for (index, message) in messages.enumerated() {
            if index > 0 { line.raw(",") }
            message.writeJSON(into: &line)
        }
        line.raw("],\"errors\":[")
        for (index, error) in errors.enumerated() {
            if index > 0 { line.raw(",") }
            line.string(error)
        }
        line.raw("],\"duplicate_of\":")
        line.string(duplicateOf)
        line.raw(stale ? ",\"stale\":true,\"refused\":" : ",\"stale\":false,\"refused\":")
        line.string(refused ? Self.refusedReason : nil)
        line.raw(",\"inherited\":{")
        // Where each inherited value came from; never the value itself (it may be a phone number).
        for (index, value) in inherited.enumerated() {
            if index > 0 { line.raw(",") }
            line.string(value.field.rawValue)
            line.raw(":{\"from\":")
            line.string(value.source.from)
            line.raw(",\"event\":")
            line.string(value.source.event)
            line.raw("}")
        }
        line.raw("}}")
        out = line.out
    }
}

/// Appends JSON pieces to a byte buffer: key names and punctuation as written, values escaped
/// as `JSONValue.write` escapes them.
struct JSONLine {
    var out: [UInt8]

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    mutating func string(_ value: String?) {
        guard let value else { return raw("null") }
        JSONValue.writeString(value, into: &out)
    }

    mutating func bool(_ value: Bool) { raw(value ? "true" : "false") }

    /// A number as its literal text (`1799`, `17.99`).
    mutating func number(_ text: String?) {
        guard let text else { return raw("null") }
        out.append(contentsOf: text.utf8)
    }

    mutating func date(_ value: Date?) { string(value.map { Timestamp.format($0) }) }
}

extension CanonicalEvent {
    /// `json`, written directly (same keys, same order).
    func writeJSON(into line: inout JSONLine) {
        line.raw("{\"provider\":")
        line.string(provider)
        line.raw(",\"event\":")
        line.string(event)
        line.raw(",\"occurred_at\":")
        line.date(occurredAt)
        line.raw(",\"received_at\":")
        line.date(receivedAt)
        line.raw(",\"sandbox\":")
        line.bool(sandbox)
        line.raw(",\"order\":{\"reference\":")
        line.string(order.reference)
        line.raw(",\"status\":")
        line.string(order.status)
        line.raw(",\"previous_status\":")
        line.string(order.previousStatus)
        line.raw(",\"status_group\":")
        line.string(order.statusGroup)
        line.raw(",\"amount\":")
        line.number(order.amount?.majorUnits.plainText)
        line.raw(",\"currency\":")
        line.string(order.amount?.currency)
        line.raw(",\"tracking_number\":")
        line.string(order.trackingNumber)
        line.raw(",\"tracking_url\":")
        line.string(order.trackingURL)
        line.raw(",\"delivery_notes\":")
        line.string(order.deliveryNotes)
        line.raw(",\"created_at\":")
        line.date(order.createdAt)
        line.raw(",\"cancellation_reason\":")
        line.string(order.cancellationReason)
        line.raw("},\"customer\":{\"name\":")
        line.string(customer.name)
        line.raw(",\"phone\":")
        line.string(customer.phone)
        line.raw(",\"city\":")
        line.string(customer.city)
        line.raw(",\"address\":")
        line.string(customer.address)
        line.raw(",\"locale\":")
        line.string(customer.locale)
        line.raw("},\"driver\":{\"name\":")
        line.string(driver.name)
        line.raw(",\"phone\":")
        line.string(driver.phone)
        line.raw("},\"items\":[")
        for (index, item) in items.enumerated() {
            line.raw(index == 0 ? "{\"name\":" : ",{\"name\":")
            line.string(item.name)
            line.raw(",\"sku\":")
            line.string(item.sku)
            line.raw(",\"quantity\":")
            line.number(item.quantity?.plainText)
            line.raw(",\"price\":")
            line.number(item.price?.plainText)
            line.raw("}")
        }
        line.raw("]")
        // Only when there are some, so that the usual line keeps DESIGN.md's keys.
        if !invalidFields.isEmpty {
            line.raw(",\"invalid_fields\":{")
            for (index, field) in invalidFields.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { line.raw(",") }
                line.string(field.key)
                line.raw(":")
                line.string(field.value)
            }
            line.raw("}")
        }
        line.raw("}")
    }
}

extension DryRunMessage {
    /// `json`, written directly (same keys, same order).
    func writeJSON(into line: inout JSONLine) {
        let m = planned.message
        line.raw("{\"rule\":")
        line.string(m.rule)
        line.raw(",\"channel\":")
        line.string(m.channel)
        line.raw(",\"to\":")
        line.string(m.to)
        line.raw(",\"locale\":")
        line.string(m.locale)
        line.raw(",\"text\":")
        line.string(m.text)
        line.raw(",\"encoding\":")
        line.string(m.encoding?.alphabet.rawValue)
        line.raw(",\"segments\":")
        line.number(m.encoding.map { String($0.segments) })
        line.raw(",\"idempotency_key\":")
        line.string(m.idempotencyKey)
        line.raw(",\"deferred_until\":")
        line.date(planned.deferredUntil)
        line.raw(",\"outcome\":")
        line.string(outcome.rawValue)
        // Only UCS-2 messages say why: GSM-7 messages and WhatsApp calls have no such keys.
        if let encoding = m.explainedEncoding, encoding.alphabet == .ucs2 {
            line.raw(",\"ucs2_because\":[")
            for (index, character) in encoding.ucs2Because.enumerated() {
                if index > 0 { line.raw(",") }
                line.string(String(character))
            }
            line.raw("],\"ucs2_because_more\":")
            line.number(String(encoding.ucs2BecauseMore))
        }
        line.raw(",\"locale_reason\":")
        line.string(m.localeReason)
        line.raw(",\"whatsapp\":")
        if let call = m.whatsapp {
            line.raw("{\"name\":")
            line.string(call.name)
            line.raw(",\"language\":")
            line.string(call.language)
            line.raw(",\"parameters\":[")
            for (index, parameter) in call.parameters.enumerated() {
                if index > 0 { line.raw(",") }
                line.string(parameter)
            }
            line.raw("]}")
        } else {
            line.raw("null")
        }
        line.raw(",\"duplicate_of\":")
        line.string(duplicateOf)
        line.raw(",\"missing_variables\":[")
        for (index, name) in m.missingVariables.enumerated() {
            if index > 0 { line.raw(",") }
            line.string(name)
        }
        line.raw("],\"problems\":[")
        for (index, problem) in m.problems.enumerated() {
            if index > 0 { line.raw(",") }
            line.string(problem)
        }
        // Held, not failed: the worker keeps it until the variable or the credentials are set.
        line.raw("],\"held\":")
        line.string(heldBecause)
        // Only on a message to a suppressed number (`--db`), so that the usual line keeps its keys.
        if let suppressed {
            line.raw(",\"suppressed\":")
            line.string(suppressed)
        }
        line.raw("}")
    }
}
