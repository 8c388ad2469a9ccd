import Foundation
import Mustache

/// What a template sees: the canonical event plus formatted helpers, looked up lazily by name so
/// rendering builds nothing the template does not use.
///
/// Missing values are nil (not empty strings), so `{{#order.tracking_url}}…{{/order.tracking_url}}`
/// sections disappear when the provider sent no tracking URL.
final class TemplateContext: MustacheParent {
    let event: CanonicalEvent
    /// The formatting locale, language and region: `ar-MA`, `fr-MA`, `ar-KW`.
    let locale: String
    let timeZone: TimeZone
    let formatters: Formatters

    init(event: CanonicalEvent, locale: String, timeZone: TimeZone, formatters: Formatters) {
        self.event = event
        self.locale = locale
        self.timeZone = timeZone
        self.formatters = formatters
    }

    func child(named name: String) -> Any? {
        switch name {
        case "provider": return event.provider
        case "event": return event.event
        case "sandbox": return event.sandbox
        case "order": return OrderContext(parent: self)
        case "customer": return PersonContext(parent: self, isDriver: false)
        case "driver": return PersonContext(parent: self, isDriver: true)
        case "items": return event.items.isEmpty ? nil : event.items.indices.map { ItemContext(parent: self, index: $0) }
        case "payload": return JSONContext.wrap(event.payload)
        case "occurred_at": return event.occurredAt.map { formatters.date($0, style: .dateTime, locale: locale, timeZone: timeZone) }
        case "occurred_date": return event.occurredAt.map { formatters.date($0, style: .date, locale: locale, timeZone: timeZone) }
        case "occurred_time": return event.occurredAt.map { formatters.date($0, style: .time, locale: locale, timeZone: timeZone) }
        default: return nil
        }
    }

    /// Follows a dotted name the way Mustache does from the root, for reporting missing values.
    func lookup(_ path: String) -> Any? {
        var current: Any? = self
        for segment in path.split(separator: ".") {
            guard let parent = current as? MustacheParent else {
                if let list = current as? [Any], let index = Int(segment), list.indices.contains(index) {
                    current = list[index]
                    continue
                }
                return nil
            }
            current = parent.child(named: String(segment))
        }
        return current
    }
}

struct OrderContext: MustacheParent {
    let parent: TemplateContext

    func child(named name: String) -> Any? {
        let order = parent.event.order
        switch name {
        case "reference": return order.reference
        case "status": return order.status
        case "previous_status": return order.previousStatus
        case "status_group": return order.statusGroup
        case "amount", "amount_formatted": return order.amount.map { parent.formatters.amount($0, locale: parent.locale) }
        case "amount_value": return order.amount.map { "\($0.majorUnits)" }
        case "currency": return order.amount?.currency
        case "tracking_number": return order.trackingNumber
        case "tracking_url": return order.trackingURL
        case "delivery_notes": return order.deliveryNotes
        case "cancellation_reason": return order.cancellationReason
        case "created_at":
            return order.createdAt.map { parent.formatters.date($0, style: .dateTime, locale: parent.locale, timeZone: parent.timeZone) }
        case "items_count": return parent.event.items.isEmpty ? nil : parent.formatters.integer(itemCount, locale: parent.locale)
        case "items_phrase": return parent.event.items.isEmpty ? nil : ItemPhrases.phrase(count: itemCount, locale: parent.locale, formatters: parent.formatters)
        default: return nil
        }
    }

    /// Units across the order's lines (a line without a quantity counts as one).
    var itemCount: Int {
        parent.event.items.reduce(0) { total, item in
            total + (item.quantity.map { NSDecimalNumber(decimal: $0).intValue } ?? 1)
        }
    }
}

/// `customer.*` or `driver.*`.
struct PersonContext: MustacheParent {
    let parent: TemplateContext
    let isDriver: Bool

    func child(named key: String) -> Any? {
        let event = parent.event
        let name = isDriver ? event.driver.name : event.customer.name
        switch key {
        case "name": return name
        case "first_name": return name.flatMap { $0.split(separator: " ").first.map(String.init) }
        case "phone": return isDriver ? event.driver.phone : event.customer.phone
        case "city": return isDriver ? nil : event.customer.city
        case "address": return isDriver ? nil : event.customer.address
        case "locale": return isDriver ? nil : event.customer.locale
        default: return nil
        }
    }
}

struct ItemContext: MustacheParent {
    let parent: TemplateContext
    let index: Int

    func child(named name: String) -> Any? {
        let item = parent.event.items[index]
        let amount = parent.event.order.amount
        switch name {
        case "name": return item.name
        case "sku": return item.sku
        case "quantity": return item.quantity.map { parent.formatters.integer(NSDecimalNumber(decimal: $0).intValue, locale: parent.locale) }
        case "price":
            return item.price.map {
                parent.formatters.amount(Amount(value: $0, unit: amount?.unit ?? .major, currency: amount?.currency), locale: parent.locale)
            }
        default: return nil
        }
    }
}

/// The provider's JSON under `payload.*`: objects by key, arrays by index, scalars as text.
struct JSONContext: MustacheParent {
    let members: [(key: String, value: JSONValue)]

    static func wrap(_ value: JSONValue) -> Any? {
        switch value {
        case .object(let members): return JSONContext(members: members)
        case .array(let elements): return elements.compactMap(wrap)
        case .null: return nil
        default: return value.scalarText
        }
    }

    func child(named name: String) -> Any? {
        guard let value = members.last(where: { $0.key == name })?.value else { return nil }
        return Self.wrap(value)
    }
}

/// "3 articles", "٣ منتجات", "منتجان": a count of items with the right CLDR plural form.
enum ItemPhrases {
    static let forms: [String: [PluralCategory: String]] = [
        "ar": [.zero: "لا منتجات", .one: "منتج واحد", .two: "منتجان", .few: "%@ منتجات", .many: "%@ منتجًا", .other: "%@ منتج"],
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
