import Foundation

/// The last known state of one order: its status and what its earlier events said about it.
public struct OrderState: Sendable, Equatable {
    public var provider: String
    public var reference: String
    public var status: String
    public var occurredAt: Date?
    /// The stored event that set this status; nil outside a store (dry-run).
    public var eventID: Int64?
    /// The customer's and the order's stable fields, as the latest event that carried each one said.
    public var remembered: [RememberedValue]

    public init(
        provider: String, reference: String, status: String, occurredAt: Date? = nil, eventID: Int64? = nil,
        remembered: [RememberedValue] = []
    ) {
        self.provider = provider
        self.reference = reference
        self.status = status
        self.occurredAt = occurredAt
        self.eventID = eventID
        self.remembered = remembered
    }

    /// The remembered value of `field`, if any.
    public func remembered(_ field: RememberedField) -> RememberedValue? {
        remembered.first { $0.field == field }
    }
}

/// Where a remembered value came from: the event that carried it.
public struct ValueSource: Sendable, Equatable {
    /// The event as its reader names it: `stored event 12` in the store, the input's file name in dry-run.
    public var from: String
    /// The event's name (`order.new`), when it has one.
    public var event: String?

    public init(from: String, event: String?) {
        self.from = from
        self.event = event
    }

    /// `samples/…/01-order-new.json, order.new`.
    public var description: String { event.map { "\(from), \($0)" } ?? from }
}

/// A field an order remembers from one event to the next: the customer's (name, phone, locale,
/// city, address) and the order's stable ones (amount, currency, items, tracking number and URL).
/// Statuses, notes and timestamps belong to one event and are never carried over.
public enum RememberedField: String, Sendable, CaseIterable {
    case customerName = "customer.name"
    case customerPhone = "customer.phone"
    case customerLocale = "customer.locale"
    case customerCity = "customer.city"
    case customerAddress = "customer.address"
    case orderAmount = "order.amount"
    case orderCurrency = "order.currency"
    case orderTrackingNumber = "order.tracking_number"
    case orderTrackingURL = "order.tracking_url"
    case items

    /// The event's value for this field, as JSON; nil when the event does not carry it.
    public func value(in event: CanonicalEvent) -> JSONValue? {
        func text(_ value: String?) -> JSONValue? { value.flatMap { $0.isEmpty ? nil : .string($0) } }
        switch self {
        case .customerName: return text(event.customer.name)
        case .customerPhone: return text(event.customer.phone)
        case .customerLocale: return text(event.customer.locale)
        case .customerCity: return text(event.customer.city)
        case .customerAddress: return text(event.customer.address)
        case .orderAmount:
            return event.order.amount.map { amount in
                .object([("value", .number("\(amount.value)")), ("unit", .string(amount.unit.rawValue))])
            }
        case .orderCurrency: return text(event.order.amount?.currency)
        case .orderTrackingNumber: return text(event.order.trackingNumber)
        case .orderTrackingURL: return text(event.order.trackingURL)
        case .items:
            guard !event.items.isEmpty else { return nil }
            return .array(
                event.items.map { item in
                    func number(_ value: Decimal?) -> JSONValue { value.map { .number("\($0)") } ?? .null }
                    return .object([
                        ("name", item.name.map(JSONValue.string) ?? .null),
                        ("sku", item.sku.map(JSONValue.string) ?? .null),
                        ("quantity", number(item.quantity)), ("price", number(item.price)),
                    ])
                })
        }
    }

    /// Puts `value` (as `value(in:)` gives it) into `event`. A currency without an amount has nowhere to go.
    public func apply(_ value: JSONValue, to event: inout CanonicalEvent) {
        func decimal(_ value: JSONValue?) -> Decimal? { value?.scalarText.flatMap { Decimal(string: $0) } }
        switch self {
        case .customerName: event.customer.name = value.scalarText
        case .customerPhone: event.customer.phone = value.scalarText
        case .customerLocale: event.customer.locale = value.scalarText
        case .customerCity: event.customer.city = value.scalarText
        case .customerAddress: event.customer.address = value.scalarText
        case .orderAmount:
            guard let number = decimal(value["value"]) else { return }
            let unit = value["unit"]?.scalarText.flatMap(Amount.Unit.init(rawValue:)) ?? .major
            event.order.amount = Amount(value: number, unit: unit, currency: event.order.amount?.currency)
        case .orderCurrency: event.order.amount?.currency = value.scalarText
        case .orderTrackingNumber: event.order.trackingNumber = value.scalarText
        case .orderTrackingURL: event.order.trackingURL = value.scalarText
        case .items:
            guard case .array(let entries) = value else { return }
            event.items = entries.map { entry in
                CanonicalEvent.Item(
                    name: entry["name"]?.scalarText, sku: entry["sku"]?.scalarText,
                    quantity: decimal(entry["quantity"]),
                    price: decimal(entry["price"]))
            }
        }
    }
}

/// One remembered (or inherited) value and the event it came from.
public struct RememberedValue: Sendable, Equatable {
    public var field: RememberedField
    public var value: JSONValue
    public var source: ValueSource

    public init(field: RememberedField, value: JSONValue, source: ValueSource) {
        self.field = field
        self.value = value
        self.source = source
    }

    /// Puts each value into `event`, in `RememberedField` order (the amount before its currency).
    public static func apply(_ values: [RememberedValue], to event: inout CanonicalEvent) {
        for field in RememberedField.allCases {
            if let remembered = values.first(where: { $0.field == field }) { field.apply(remembered.value, to: &event) }
        }
    }

    /// As stored: `{"customer.phone": {"value": "+222…", "from": "stored event 1", "event": "order.new"}, …}`.
    public static func json(_ values: [RememberedValue]) -> JSONValue {
        .object(
            values.map { value in
                (
                    value.field.rawValue,
                    .object([
                        ("value", value.value), ("from", .string(value.source.from)),
                        ("event", value.source.event.map(JSONValue.string) ?? .null),
                    ])
                )
            })
    }

    /// Reads what `json(_:)` wrote; fields it does not know are skipped.
    public static func values(fromJSON text: String?) -> [RememberedValue] {
        guard let text, case .object(let members)? = try? JSONParser.parse(Array(text.utf8)) else { return [] }
        return members.compactMap { member in
            guard let field = RememberedField(rawValue: member.key), let value = member.value["value"],
                let from = member.value["from"]?.scalarText
            else { return nil }
            return RememberedValue(
                field: field, value: value, source: ValueSource(from: from, event: member.value["event"]?.scalarText))
        }
    }
}
