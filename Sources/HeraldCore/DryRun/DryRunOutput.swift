import Foundation

extension DryRunResult {
    /// One line of `--format json`: DESIGN.md's keys in DESIGN.md's order, then Herald's extras.
    public func jsonLine() -> String {
        var out: [UInt8] = []
        appendJSONLine(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The line as a JSON tree: DESIGN.md's keys in DESIGN.md's order, then Herald's extras.
    /// `appendJSONLine` writes the same bytes without building it (DryRunJSONLine.swift).
    public var jsonValue: JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("input", .string(input)),
            ("provider", provider.map(JSONValue.string) ?? .null),
            ("verification", .string(verification.rawValue)),
            ("event", event.map(\.json) ?? .null),
            (
                "rules",
                .array(
                    rules.map { rule in
                        .object([
                            ("id", .string(rule.id)), ("matched", .bool(rule.matched)),
                            ("reason", rule.reason.map(JSONValue.string) ?? .null),
                        ])
                    })
            ),
            ("messages", .array(messages.map(\.json))),
            ("errors", .array(errors.map(JSONValue.string))),
        ]
        members.append(("duplicate_of", duplicateOf.map(JSONValue.string) ?? .null))
        members.append(("stale", .bool(stale)))
        members.append(("refused", refused ? .string(Self.refusedReason) : .null))
        // Where each inherited value came from; never the value itself (it may be a phone number).
        let sources = inherited.map { value -> (key: String, value: JSONValue) in
            let event = value.source.event.map(JSONValue.string) ?? .null
            return (value.field.rawValue, .object([("from", .string(value.source.from)), ("event", event)]))
        }
        members.append(("inherited", .object(sources)))
        return .object(members)
    }

    /// Why a refused input lists no message.
    static let refusedReason = "verification failed: the worker answers 401 and sends nothing"

    /// The block `--format text` prints for people; `phone` shows each recipient's number (`herald dry-run`
    /// masks them, as `herald messages` does, unless `--reveal`).
    public func textBlock(phone: (String) -> String = { $0 }) -> String {
        var lines: [String] = []
        var head = "\(input) — \(provider ?? "unknown provider")"
        if provider != nil { head += ", verification \(verification.rawValue)" }
        lines.append(head)
        if let event {
            var parts = [event.event ?? "event", event.order.reference ?? "no reference"]
            if event.order.status != nil || event.order.previousStatus != nil {
                parts.append("\(event.order.previousStatus ?? "?") → \(event.order.status ?? "?")")
            }
            if let occurredAt = event.occurredAt { parts.append(Timestamp.format(occurredAt)) }
            if event.sandbox { parts.append("sandbox") }
            lines.append("  event    " + parts.joined(separator: " · "))
            for (_, reason) in event.invalidFields.sorted(by: { $0.key < $1.key }) {
                lines.append("  invalid  \(reason) (messages printing it fail)")
            }
        }
        for (index, value) in inherited.enumerated() {
            let label = index == 0 ? "  inherit  " : "           "
            lines.append(label + "\(value.field.rawValue): from \(value.source.description)")
        }
        if let duplicateOf {
            lines.append("  note     duplicate of \(duplicateOf): the worker would store nothing new")
        }
        if stale { lines.append("  note     stale: older than the order's known status, sends nothing") }
        if refused { lines.append("  note     not sent: \(Self.refusedReason) (rules shown for reference)") }
        for error in errors { lines.append("  error    \(error)") }
        for (index, rule) in rules.enumerated() {
            let label = index == 0 ? "  rules    " : "           "
            lines.append(label + (rule.matched ? "✓ \(rule.id)" : "✗ \(rule.id): \(rule.reason ?? "")"))
        }
        for message in messages {
            let m = message.planned.message
            let recipient = m.unsetTo.map { "\($0) (not set)" } ?? m.to.map(phone) ?? "nobody"
            var head = "  message  \(m.rule) → \(m.channel) to \(recipient) (\(m.locale), \(m.localeReason))"
            if let encoding = m.explainedEncoding {
                head += " · \(encoding.alphabet.rawValue)"
                if let because = encoding.ucs2BecauseText { head += " (because of \(because))" }
                head += ", \(encoding.segments) segment\(encoding.segments == 1 ? "" : "s")"
            }
            lines.append(head)
            if let call = m.whatsapp {
                let parameters = call.parameters.joined(separator: ", ")
                lines.append("           WhatsApp template \(call.name) (\(call.language)) with [\(parameters)]")
            }
            if let deferred = message.planned.deferredUntil {
                lines.append("           deferred until \(Timestamp.format(deferred)) (quiet hours)")
            }
            if let duplicateOf = message.duplicateOf {
                lines.append("           duplicate of \(duplicateOf): not sent again")
            }
            if let suppressed = message.suppressed {
                lines.append("           suppressed: \(suppressed) (not sent)")
            }
            if let heldBecause = message.heldBecause {
                lines.append("           held: \(heldBecause) (herald retry releases it once set)")
            }
            for problem in m.problems { lines.append("           problem: \(problem) (the message fails)") }
            if !m.text.isEmpty {
                for textLine in m.text.split(separator: "\n", omittingEmptySubsequences: false) {
                    lines.append("           │ \(textLine)")
                }
            }
        }
        if rules.isEmpty, errors.isEmpty, duplicateOf == nil, !stale, event != nil {
            lines.append("  rules    none evaluated")
        }
        return lines.joined(separator: "\n")
    }
}

extension DryRunMessage {
    var json: JSONValue {
        let m = planned.message
        var members: [(key: String, value: JSONValue)] = [
            ("rule", .string(m.rule)),
            ("channel", .string(m.channel)),
            ("to", m.to.map(JSONValue.string) ?? .null),
            ("locale", .string(m.locale)),
            ("text", .string(m.text)),
            ("encoding", m.encoding.map { .string($0.alphabet.rawValue) } ?? .null),
            ("segments", m.encoding.map { .number("\($0.segments)") } ?? .null),
            ("idempotency_key", m.idempotencyKey.map(JSONValue.string) ?? .null),
            ("deferred_until", planned.deferredUntil.map { .string(Timestamp.format($0)) } ?? .null),
            ("outcome", .string(outcome.rawValue)),
        ]
        // Only UCS-2 messages say why: GSM-7 messages and WhatsApp calls have no such keys.
        if let encoding = m.explainedEncoding, encoding.alphabet == .ucs2 {
            members.append(("ucs2_because", .array(encoding.ucs2Because.map { .string(String($0)) })))
            members.append(("ucs2_because_more", .number("\(encoding.ucs2BecauseMore)")))
        }
        members.append(("locale_reason", .string(m.localeReason)))
        members.append(
            (
                "whatsapp",
                m.whatsapp.map { call in
                    .object([
                        ("name", .string(call.name)), ("language", .string(call.language)),
                        ("parameters", .array(call.parameters.map(JSONValue.string))),
                    ])
                } ?? .null
            ))
        members.append(("duplicate_of", duplicateOf.map(JSONValue.string) ?? .null))
        members.append(("missing_variables", .array(m.missingVariables.map(JSONValue.string))))
        members.append(("problems", .array(m.problems.map(JSONValue.string))))
        // Held, not failed: the worker keeps it until the variable or the credentials are set and
        // `herald retry` releases it.
        members.append(("held", heldBecause.map(JSONValue.string) ?? .null))
        // Only on a message to a suppressed number (`--db`), so that the usual line keeps its keys.
        if let suppressed { members.append(("suppressed", .string(suppressed))) }
        return .object(members)
    }
}

extension RenderedMessage {
    /// The encoding with, for UCS-2, the characters that force it (counted again from the text:
    /// the renderer counts without naming them, to stay fast).
    public var explainedEncoding: SMSEncoding? {
        guard let encoding, encoding.alphabet == .ucs2 else { return encoding }
        return SMSEncoding.explained(text)
    }
}

extension SMSEncoding {
    /// The characters that force UCS-2 as dry-run prints them (`ç, ’`, `ب, ت, … and 12 more`);
    /// an invisible one (no-break space, bidi isolate, tab) as its code point (`U+00A0`).
    /// Nil for GSM-7.
    public var ucs2BecauseText: String? {
        guard alphabet == .ucs2, !ucs2Because.isEmpty else { return nil }
        let named = ucs2Because.map { character in
            let invisible = character.unicodeScalars.allSatisfy { scalar in
                switch scalar.properties.generalCategory {
                case .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator, .nonspacingMark,
                    .enclosingMark:
                    return true
                default: return false
                }
            }
            guard invisible else { return String(character) }
            return character.unicodeScalars.map { scalar in
                let hex = String(scalar.value, radix: 16, uppercase: true)
                return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            }.joined(separator: " ")
        }
        return named.joined(separator: ", ") + (ucs2BecauseMore > 0 ? " and \(ucs2BecauseMore) more" : "")
    }
}

extension CanonicalEvent {
    /// The canonical event as JSON, keys in a fixed order (the provider's payload is left out:
    /// it is the input itself).
    public var json: JSONValue {
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        func date(_ value: Date?) -> JSONValue { value.map { .string(Timestamp.format($0)) } ?? .null }
        func number(_ value: Decimal?) -> JSONValue { value.map { .number($0.plainText) } ?? .null }
        var members: [(key: String, value: JSONValue)] = [
            ("provider", .string(provider)),
            ("event", text(event)),
            ("occurred_at", date(occurredAt)),
            ("received_at", date(receivedAt)),
            ("sandbox", .bool(sandbox)),
            (
                "order",
                .object([
                    ("reference", text(order.reference)),
                    ("status", text(order.status)),
                    ("previous_status", text(order.previousStatus)),
                    ("status_group", text(order.statusGroup)),
                    ("amount", number(order.amount?.majorUnits)),
                    ("currency", text(order.amount?.currency)),
                    ("tracking_number", text(order.trackingNumber)),
                    ("tracking_url", text(order.trackingURL)),
                    ("delivery_notes", text(order.deliveryNotes)),
                    ("created_at", date(order.createdAt)),
                    ("cancellation_reason", text(order.cancellationReason)),
                ])
            ),
            (
                "customer",
                .object([
                    ("name", text(customer.name)), ("phone", text(customer.phone)), ("city", text(customer.city)),
                    ("address", text(customer.address)), ("locale", text(customer.locale)),
                ])
            ),
            ("driver", .object([("name", text(driver.name)), ("phone", text(driver.phone))])),
            (
                "items",
                .array(
                    items.map { item in
                        .object([
                            ("name", text(item.name)), ("sku", text(item.sku)), ("quantity", number(item.quantity)),
                            ("price", number(item.price)),
                        ])
                    })
            ),
        ]
        // Only when there are some, so that the usual line keeps DESIGN.md's keys.
        if !invalidFields.isEmpty {
            let sorted = invalidFields.sorted { $0.key < $1.key }
            members.append(("invalid_fields", .object(sorted.map { ($0.key, JSONValue.string($0.value)) })))
        }
        return .object(members)
    }
}

extension DryRunSummary {
    public var text: String {
        func count(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        var lines: [String] = []
        lines.append(
            "\(count(inputs, "input")): \(verified) verified, \(verificationFailed) failed verification, "
                + "\(failedInputs) with errors; \(count(duplicates, "duplicate")), \(stale) stale")
        let perChannel = byChannelAndLocale.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            .joined(separator: ", ")
        lines.append(
            "\(count(messages, "message")) would be sent\(perChannel.isEmpty ? "" : " (\(perChannel))"), "
                + "\(count(segments, "SMS segment"))")
        let outcomes: [(DryRunMessage.Outcome, String)] = [
            (.duplicate, "duplicate"), (.suppressed, "suppressed"), (.deferred, "deferred (quiet hours)"),
            (.held, "held"), (.failed, "failed"),
        ]
        let notSentText = outcomes.map { "\(notSent[$0.0] ?? 0) \($0.1)" }.joined(separator: ", ")
        lines.append("not sent: \(notSentText); \(verificationFailed) refused (401), \(stale) stale")
        return lines.joined(separator: "\n")
    }
}
