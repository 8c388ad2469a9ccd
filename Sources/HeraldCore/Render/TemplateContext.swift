import Foundation

/// What a message template renders against: the canonical event, the formatting locale and time
/// zone. Values are computed when a tag prints or tests them, so rendering builds nothing the
/// template does not use.
struct TemplateContext {
    let event: CanonicalEvent
    /// The formatting locale, language and region: `ar-MA`, `fr-MA`, `ar-KW`.
    let locale: String
    let timeZone: TimeZone
    let formatters: Formatters
}

/// A value while a message renders. Missing values are `.missing` (not empty text), so
/// `{{#order.tracking_url}}…{{/order.tracking_url}}` disappears when the provider sent no URL.
enum EventValue {
    case missing
    case text(String)
    case flag(Bool)
    case root
    case order
    case customer
    case driver
    /// The event's lines (only when there is at least one).
    case items
    case item(Int)
    /// An object or a list from the provider's JSON (`payload.*`); its scalars are `.text`.
    case json(JSONValue)

    /// The provider's JSON as a template sees it: null is missing, scalars are text.
    static func wrap(_ value: JSONValue) -> EventValue {
        switch value {
        case .null: return .missing
        case .object, .array: return .json(value)
        default: return value.scalarText.map(EventValue.text) ?? .missing
        }
    }
}

/// The names of the event itself (`{{provider}}`, `{{order.…}}`).
enum RootField: String, CaseIterable {
    case provider, event, sandbox, order, customer, driver, items, payload
    case occurredAt = "occurred_at", occurredDate = "occurred_date", occurredTime = "occurred_time"

    func value(in context: TemplateContext) -> EventValue {
        let event = context.event
        switch self {
        case .provider: return .text(event.provider)
        case .event: return event.event.map(EventValue.text) ?? .missing
        case .sandbox: return .flag(event.sandbox)
        case .order: return .order
        case .customer: return .customer
        case .driver: return .driver
        case .items: return event.items.isEmpty ? .missing : .items
        case .payload: return .wrap(event.payload)
        case .occurredAt: return context.date(event.occurredAt, .dateTime)
        case .occurredDate: return context.date(event.occurredAt, .date)
        case .occurredTime: return context.date(event.occurredAt, .time)
        }
    }
}

/// `order.*`; `amount_formatted` is a synonym of `amount`.
enum OrderField: String, CaseIterable {
    case reference, status, currency, amount
    case previousStatus = "previous_status", statusGroup = "status_group", amountValue = "amount_value"
    case trackingNumber = "tracking_number", trackingURL = "tracking_url", deliveryNotes = "delivery_notes"
    case cancellationReason = "cancellation_reason", createdAt = "created_at", itemsCount = "items_count"
    case itemsPhrase = "items_phrase"

    init?(name: String) {
        self.init(rawValue: name == "amount_formatted" ? "amount" : name)
    }

    static let names = allCases.map(\.rawValue) + ["amount_formatted"]

    func value(in context: TemplateContext) -> EventValue {
        let order = context.event.order
        let text: String?
        switch self {
        case .reference: text = order.reference
        case .status: text = order.status
        case .previousStatus: text = order.previousStatus
        case .statusGroup: text = order.statusGroup
        case .amount: text = order.amount.map { context.formatters.amount($0, locale: context.locale) }
        case .amountValue: text = order.amount.map { "\($0.majorUnits)" }
        case .currency: text = order.amount?.currency
        case .trackingNumber: text = order.trackingNumber
        case .trackingURL: text = order.trackingURL
        case .deliveryNotes: text = order.deliveryNotes
        case .cancellationReason: text = order.cancellationReason
        case .createdAt: return context.date(order.createdAt, .dateTime)
        case .itemsCount:
            text =
                context.event.items.isEmpty
                ? nil : context.formatters.integer(context.itemCount, locale: context.locale)
        case .itemsPhrase:
            text =
                context.event.items.isEmpty
                ? nil
                : ItemPhrases.phrase(count: context.itemCount, locale: context.locale, formatters: context.formatters)
        }
        return text.map(EventValue.text) ?? .missing
    }
}

/// `customer.*` or `driver.*` (a driver has no city, address or locale).
enum PersonField: String, CaseIterable {
    case name, phone, city, address, locale
    case firstName = "first_name"

    static let customerNames = allCases.map(\.rawValue)
    static let driverNames = ["name", "first_name", "phone"]

    func value(in context: TemplateContext, driver: Bool) -> EventValue {
        let event = context.event
        let name = driver ? event.driver.name : event.customer.name
        let text: String?
        switch self {
        case .name: text = name
        case .firstName: text = name.flatMap(Self.firstName)
        case .phone: text = driver ? event.driver.phone : event.customer.phone
        case .city: text = driver ? nil : event.customer.city
        case .address: text = driver ? nil : event.customer.address
        case .locale: text = driver ? nil : event.customer.locale
        }
        return text.map(EventValue.text) ?? .missing
    }

    /// The name up to its first space (leading spaces skipped); nil when it is only spaces.
    static func firstName(_ name: String) -> String? {
        let start = name.drop { $0 == " " }
        guard !start.isEmpty else { return nil }
        return String(start.prefix { $0 != " " })
    }
}

/// A line of `items`.
enum ItemField: String, CaseIterable {
    case name, sku, quantity, price

    static let names = allCases.map(\.rawValue)

    func value(in context: TemplateContext, index: Int) -> EventValue {
        let item = context.event.items[index]
        let amount = context.event.order.amount
        let text: String?
        switch self {
        case .name: text = item.name
        case .sku: text = item.sku
        case .quantity:
            text = item.quantity.map {
                context.formatters.integer(NSDecimalNumber(decimal: $0).intValue, locale: context.locale)
            }
        case .price:
            text = item.price.map {
                let price = Amount(value: $0, unit: amount?.unit ?? .major, currency: amount?.currency)
                return context.formatters.amount(price, locale: context.locale)
            }
        }
        return text.map(EventValue.text) ?? .missing
    }
}

extension TemplateContext {
    func date(_ date: Date?, _ style: Formatters.DateStyle) -> EventValue {
        date.map { .text(formatters.date($0, style: style, locale: locale, timeZone: timeZone)) } ?? .missing
    }

    /// Units across the order's lines (a line without a quantity counts as one).
    var itemCount: Int {
        event.items.reduce(0) { total, item in
            total + (item.quantity.map { NSDecimalNumber(decimal: $0).intValue } ?? 1)
        }
    }
}

/// "3 articles", "٣ منتجات", "منتجان": a count of items with the right CLDR plural form.
enum ItemPhrases {
    static let forms: [String: [PluralCategory: String]] = [
        "ar": [
            .zero: "لا منتجات", .one: "منتج واحد", .two: "منتجان", .few: "%@ منتجات", .many: "%@ منتجًا",
            .other: "%@ منتج",
        ],
        "fr": [.one: "%@ article", .many: "%@ d'articles", .other: "%@ articles"],
        "en": [.one: "%@ item", .other: "%@ items"],
    ]

    static func phrase(count: Int, locale: String, formatters: Formatters) -> String {
        let language = PluralRules.language(of: locale)
        let table = forms[language] ?? forms["en"]!
        let category = PluralRules.category(of: count, locale: locale)
        let form = table[category] ?? table[.other]!
        return form.replacingOccurrences(of: "%@", with: formatters.integer(count, locale: locale))
    }
}
