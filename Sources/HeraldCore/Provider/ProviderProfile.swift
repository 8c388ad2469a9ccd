import Foundation

/// Where a canonical field's value comes from in a webhook.
///
/// Written in rules.yaml as a dotted body path (`order.new_status`), `header:NAME` for a
/// request header, or `=text` for a fixed value.
public enum FieldSource: Sendable, Hashable, CustomStringConvertible {
    case body(FieldPath)
    case header(String)
    case constant(String)

    public init(parsing text: String) {
        if text.hasPrefix("header:") {
            self = .header(String(text.dropFirst("header:".count)))
        } else if text.hasPrefix("=") {
            self = .constant(String(text.dropFirst()))
        } else {
            self = .body(FieldPath(text))
        }
    }

    public var description: String {
        switch self {
        case .body(let path): return path.description
        case .header(let name): return "header:\(name)"
        case .constant(let value): return "=\(value)"
        }
    }

    public func value(in request: WebhookRequest, body: JSONValue?) -> JSONValue? {
        switch self {
        case .body(let path): return body?.value(at: path)
        case .header(let name): return Self.header(name, in: request).map(JSONValue.string)
        case .constant(let value): return .string(value)
        }
    }

    /// A header's value; `webhook-id`, `webhook-timestamp` and `webhook-signature` are also read
    /// as Svix names them (`svix-id`, …), as verification reads them, so `dedupe: [header:webhook-id]`
    /// holds for senders built on Svix.
    static func header(_ name: String, in request: WebhookRequest) -> String? {
        if let value = request.header(name) { return value }
        let lowered = name.lowercased()
        guard ["webhook-id", "webhook-timestamp", "webhook-signature"].contains(lowered) else { return nil }
        return request.header("svix-" + lowered.dropFirst("webhook-".count))
    }
}

/// The canonical fields a provider profile can map (DESIGN.md, "The canonical event").
public enum CanonicalField: String, Sendable, CaseIterable {
    case event
    case occurredAt = "occurred_at"
    case sandbox
    case orderReference = "order.reference"
    case orderStatus = "order.status"
    case orderPreviousStatus = "order.previous_status"
    case orderAmount = "order.amount"
    case orderCurrency = "order.currency"
    case orderTrackingNumber = "order.tracking_number"
    case orderTrackingURL = "order.tracking_url"
    case orderDeliveryNotes = "order.delivery_notes"
    case orderCreatedAt = "order.created_at"
    case orderCancellationReason = "order.cancellation_reason"
    case customerName = "customer.name"
    case customerPhone = "customer.phone"
    case customerCity = "customer.city"
    case customerAddress = "customer.address"
    case customerLocale = "customer.locale"
    case driverName = "driver.name"
    case driverPhone = "driver.phone"
}

/// Where the line items are and what their members are called.
public struct ItemsMapping: Sendable {
    public var path: FieldPath
    public var name: FieldPath?
    public var sku: FieldPath?
    public var quantity: FieldPath?
    public var price: FieldPath?

    public init(path: FieldPath, name: FieldPath? = nil, sku: FieldPath? = nil, quantity: FieldPath? = nil, price: FieldPath? = nil) {
        self.path = path
        self.name = name
        self.sku = sku
        self.quantity = quantity
        self.price = price
    }
}

/// Fetching what a provider leaves out (Wakilni sends no customer) from the merchant's own API.
public struct Enrichment: Sendable {
    /// A Mustache template over the event: `https://shop.example/api/orders/{{order.reference}}`.
    public var url: String {
        didSet { urlTemplate = try? MustacheParser.parse(url) }
    }
    /// `url` parsed once; nil when it is not valid Mustache (its `{{field}}`s are then replaced as
    /// plain text, as `expandingURLPlaceholders` does).
    var urlTemplate: [MustacheNode]?
    /// Canonical field → path in the JSON the URL answers.
    public var fields: [CanonicalField: FieldPath]
    /// Request headers, `${NAME}` already expanded (an `Authorization` token, say).
    public var headers: [String: String]
    public var timeout: TimeInterval

    public init(url: String, fields: [CanonicalField: FieldPath], headers: [String: String] = [:], timeout: TimeInterval = 5) {
        self.url = url
        self.urlTemplate = try? MustacheParser.parse(url)
        self.fields = fields
        self.headers = headers
        self.timeout = timeout
    }
}

/// Everything Herald knows about one provider: how to verify its webhooks, where the canonical
/// fields are in its JSON, how to recognise a redelivery, and which statuses it can send.
///
/// Built-in presets and providers declared in rules.yaml produce the same type.
public struct ProviderProfile: Sendable {
    /// The name in the URL: `POST /webhooks/{name}`.
    public var name: String
    public var preset: String?
    public var verification: Verification
    public var fields: [CanonicalField: FieldSource]
    public var items: ItemsMapping?
    /// The parts that identify one event across redeliveries; absent parts count as empty.
    public var dedupe: [FieldSource]
    /// The provider's id for this delivery attempt, kept for support requests.
    public var deliveryID: FieldSource?
    /// Fields without which the event cannot be used (it is still stored, with the error).
    public var required: [CanonicalField]
    /// The zone of timestamps that carry no offset.
    public var timeZone: TimeZone
    public var country: String?
    public var locale: String?
    /// The currency when the payload names none.
    public var currency: String?
    public var amountUnit: Amount.Unit
    /// Which separator marks the decimals in amounts the provider sends as text (`amount_decimal`).
    public var amountDecimal: Amount.DecimalMark
    /// Every status the provider documents; empty when unknown.
    public var statuses: [String]
    /// Legal transitions (from → allowed next statuses); empty when the provider documents none.
    public var transitions: [String: [String]]
    public var statusGroups: [String: String]
    public var enrichment: Enrichment?
    /// Where the entry is written in rules.yaml (its name), for `herald check`.
    public var location = SourceLocation(line: 1, column: 1)
    /// Where each key the entry sets is written (`fields.order.status`, `dedupe`, `items.path`):
    /// the value's line and column. Keys that come from a preset have none.
    public var locations: [String: SourceLocation] = [:]

    /// The line and column of `part`, or of the entry when the part is not written in the file.
    public func location(of part: String) -> SourceLocation { locations[part] ?? location }

    public init(
        name: String, preset: String? = nil, verification: Verification, fields: [CanonicalField: FieldSource] = [:],
        items: ItemsMapping? = nil, dedupe: [FieldSource] = [], deliveryID: FieldSource? = nil,
        required: [CanonicalField] = [], timeZone: TimeZone = TimeZone(identifier: "UTC")!, country: String? = nil,
        locale: String? = nil, currency: String? = nil, amountUnit: Amount.Unit = .major,
        amountDecimal: Amount.DecimalMark = .auto, statuses: [String] = [], transitions: [String: [String]] = [:],
        statusGroups: [String: String] = [:], enrichment: Enrichment? = nil
    ) {
        self.name = name
        self.preset = preset
        self.verification = verification
        self.fields = fields
        self.items = items
        self.dedupe = dedupe
        self.deliveryID = deliveryID
        self.required = required
        self.timeZone = timeZone
        self.country = country
        self.locale = locale
        self.currency = currency
        self.amountUnit = amountUnit
        self.amountDecimal = amountDecimal
        self.statuses = statuses
        self.transitions = transitions
        self.statusGroups = statusGroups
        self.enrichment = enrichment
    }

    /// Whether the order can go, in one or more legal steps, from `from` to `to`.
    public func canReach(from: String, to: String) -> Bool {
        var seen: Set<String> = [from]
        var queue = [from]
        while let status = queue.popLast() {
            for next in transitions[status] ?? [] where !seen.contains(next) {
                if next == to { return true }
                seen.insert(next)
                queue.append(next)
            }
        }
        return false
    }

    /// Whether an event with status `status` (at `occurredAt`) is older than what the store knows.
    ///
    /// Timestamps decide when both are known; otherwise the transitions table does: a status
    /// from which the known one can still be reached, but not the other way round, is in the past.
    public func isStale(status: String?, occurredAt: Date?, known: String?, knownOccurredAt: Date?) -> Bool {
        if let occurredAt, let knownOccurredAt { return occurredAt < knownOccurredAt }
        guard let status, let known, status != known, !transitions.isEmpty else { return false }
        return canReach(from: status, to: known) && !canReach(from: known, to: status)
    }
}
