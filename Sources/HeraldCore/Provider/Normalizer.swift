import Crypto
import Foundation

/// A webhook read through its provider profile: the canonical event when the body could be
/// used, the reason when it could not, and the keys that identify it.
public struct NormalizedWebhook: Sendable {
    /// Nil when the body is not JSON; present (with `parseError` set) when fields are missing.
    public var event: CanonicalEvent?
    /// Why the event cannot be used at all (no messages); nil when it can.
    public var parseError: String?
    /// Identifies the event across redeliveries; unique per provider in the store.
    public var dedupeKey: String
    public var deliveryID: String?

    /// Values that could not be read although the event is usable (`order.amount '12abc' is not a
    /// readable number: …`), joined; nil when there are none. Messages printing them fail.
    public var fieldProblems: String? {
        guard let invalid = event?.invalidFields, !invalid.isEmpty else { return nil }
        return invalid.sorted { $0.key < $1.key }.map(\.value).joined(separator: "; ")
    }
}

extension ProviderProfile {
    /// Reads `request` into the canonical event. Never fails: a body that cannot be used still
    /// yields a dedupe key (a hash of the raw bytes) and the reason, so it can be stored.
    public func normalize(_ request: WebhookRequest) -> NormalizedWebhook {
        normalize(request, parsedBody: nil)
    }

    /// `parsedBody`, when given, is `request.body` already parsed (a bare body dry-run read as JSON
    /// to tell it from an envelope): each body is parsed once.
    public func normalize(_ request: WebhookRequest, parsedBody: JSONValue?) -> NormalizedWebhook {
        let body: JSONValue
        do throws(JSONParseError) {
            if let parsedBody { body = parsedBody } else { body = try JSONParser.parse(request.body) }
        } catch {
            return NormalizedWebhook(
                event: nil, parseError: error.description, dedupeKey: Self.bodyHash(request.body),
                deliveryID: readDeliveryID(of: request, body: nil))
        }
        var problems: [String] = []
        let event = canonicalEvent(from: body, request: request, problems: &problems)
        for field in required where event.value(of: field) == nil {
            if let reason = event.invalidFields[field.rawValue] {
                problems.append(reason)
                continue
            }
            let source = fields[field].map { " (\($0))" } ?? ""
            problems.append("missing \(field.rawValue)\(source)")
        }
        return NormalizedWebhook(
            event: event, parseError: problems.isEmpty ? nil : problems.joined(separator: "; "),
            dedupeKey: dedupeKey(request: request, body: body), deliveryID: readDeliveryID(of: request, body: body))
    }

    /// The provider's delivery id: read with the body when it parsed, else (or when the body has
    /// none) from the request alone. Intake's keys and the full event read it this one way.
    func readDeliveryID(of request: WebhookRequest, body: JSONValue?) -> String? {
        let withBody = body.flatMap { deliveryID?.value(in: request, body: $0)?.scalarText }
        return withBody ?? deliveryID?.value(in: request, body: nil)?.scalarText
    }

    func dedupeKey(request: WebhookRequest, body: JSONValue) -> String {
        let parts = dedupe.map { $0.value(in: request, body: body)?.scalarText ?? "" }
        guard parts.contains(where: { !$0.isEmpty }) else { return Self.bodyHash(request.body) }
        return parts.joined(separator: "|")
    }

    /// `s` without surrounding white space; cheap when there is none (the usual case).
    static func trimmed(_ s: String) -> String {
        guard let first = s.unicodeScalars.first, let last = s.unicodeScalars.last else { return s }
        if !first.properties.isWhitespace, !last.properties.isWhitespace { return s }
        return s.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func bodyHash(_ body: [UInt8]) -> String {
        "sha256:" + Hex.encode(SHA256.hash(data: body))
    }

    /// The trimmed text the profile maps to `field`; nil when absent or blank. Intake's keys and
    /// the full event read it the same way, so both name the same order.
    func text(of field: CanonicalField, in request: WebhookRequest, body: JSONValue) -> String? {
        guard let value = fields[field]?.value(in: request, body: body), let s = value.scalarText else {
            return nil
        }
        let trimmed = Self.trimmed(s)
        return trimmed.isEmpty ? nil : trimmed
    }

    func canonicalEvent(from body: JSONValue, request: WebhookRequest, problems: inout [String]) -> CanonicalEvent {
        func text(_ field: CanonicalField) -> String? { self.text(of: field, in: request, body: body) }
        func date(_ field: CanonicalField) -> Date? {
            guard let raw = text(field) else { return nil }
            guard let date = Timestamp.parse(raw, defaultTimeZone: timeZone) else {
                problems.append("\(field.rawValue) '\(raw)' is not a date")
                return nil
            }
            return date
        }
        var invalid: [String: String] = [:]
        let orderCurrency = text(.orderCurrency) ?? currency
        /// A number or nil; an unreadable one is recorded in `invalid` under `path`, never guessed.
        func reading(_ value: JSONValue?, _ path: String) -> Amount.Reading? {
            guard let value else { return nil }
            do {
                guard let reading = try Amount.read(value, decimalMark: amountDecimal) else { return nil }
                if !reading.currencies.isEmpty, let orderCurrency,
                    !reading.currencies.contains(orderCurrency.uppercased())
                {
                    let named = reading.currencies.sorted().joined(separator: "/")
                    let written = value.scalarText ?? ""
                    invalid[path] = "\(path) '\(written)' is in \(named), not in the order's currency \(orderCurrency)"
                    return nil
                }
                return reading
            } catch {
                invalid[path] = "\(path) '\(value.scalarText ?? "")' is not a readable number: \(error.reason)"
                return nil
            }
        }
        func decimal(_ value: JSONValue?, _ path: String) -> Decimal? { reading(value, path)?.value }

        var event = CanonicalEvent(provider: name, receivedAt: request.receivedAt, payload: body)
        event.event = text(.event)
        event.occurredAt = date(.occurredAt)
        if let sandbox = fields[.sandbox]?.value(in: request, body: body) {
            event.sandbox = sandbox.boolValue ?? false
        }
        event.order.reference = text(.orderReference)
        event.order.status = text(.orderStatus)
        event.order.previousStatus = text(.orderPreviousStatus)
        event.order.statusGroup = event.order.status.flatMap { statusGroups[$0] }
        let amountValue = fields[.orderAmount]?.value(in: request, body: body)
        if let amount = reading(amountValue, CanonicalField.orderAmount.rawValue) {
            // A currency only the text names (`1 249 DH` from a provider without one) is the order's.
            let named = amount.currencies.count == 1 ? amount.currencies.first : nil
            event.order.amount = Amount(value: amount.value, unit: amountUnit, currency: orderCurrency ?? named)
        }
        event.order.trackingNumber = text(.orderTrackingNumber)
        event.order.trackingURL = text(.orderTrackingURL)
        event.order.deliveryNotes = text(.orderDeliveryNotes)
        event.order.createdAt = date(.orderCreatedAt)
        event.order.cancellationReason = text(.orderCancellationReason)
        event.customer = CanonicalEvent.Customer(
            name: text(.customerName), phone: text(.customerPhone), city: text(.customerCity),
            address: text(.customerAddress), locale: text(.customerLocale))
        event.driver = CanonicalEvent.Driver(name: text(.driverName), phone: text(.driverPhone))
        if let items, let list = body.value(at: items.path)?.arrayValue {
            event.items = list.enumerated().map { index, element in
                CanonicalEvent.Item(
                    name: items.name.flatMap { element.value(at: $0)?.scalarText },
                    sku: items.sku.flatMap { element.value(at: $0)?.scalarText },
                    quantity: decimal(items.quantity.flatMap { element.value(at: $0) }, "items.\(index).quantity"),
                    price: decimal(items.price.flatMap { element.value(at: $0) }, "items.\(index).price"))
            }
        }
        event.invalidFields = invalid
        return event
    }
}

extension CanonicalEvent {
    /// The text of a canonical field, or nil when the event has none.
    public func value(of field: CanonicalField) -> String? {
        switch field {
        case .event: return event
        case .occurredAt: return occurredAt.map(Timestamp.format)
        case .sandbox: return sandbox ? "true" : "false"
        case .orderReference: return order.reference
        case .orderStatus: return order.status
        case .orderPreviousStatus: return order.previousStatus
        case .orderAmount: return order.amount.map { $0.value.plainText }
        case .orderCurrency: return order.amount?.currency
        case .orderTrackingNumber: return order.trackingNumber
        case .orderTrackingURL: return order.trackingURL
        case .orderDeliveryNotes: return order.deliveryNotes
        case .orderCreatedAt: return order.createdAt.map(Timestamp.format)
        case .orderCancellationReason: return order.cancellationReason
        case .customerName: return customer.name
        case .customerPhone: return customer.phone
        case .customerCity: return customer.city
        case .customerAddress: return customer.address
        case .customerLocale: return customer.locale
        case .driverName: return driver.name
        case .driverPhone: return driver.phone
        }
    }
}
