import Foundation

/// What rules match on and templates render, whatever the provider (DESIGN.md, "The canonical event").
public struct CanonicalEvent: Sendable, Equatable {
    public var provider: String
    public var event: String?
    public var occurredAt: Date?
    public var receivedAt: Date
    public var sandbox: Bool
    public var order: Order
    public var customer: Customer
    public var driver: Driver
    public var items: [Item]
    /// The provider's own JSON, for anything not mapped above (`payload.*` in rules and templates).
    public var payload: JSONValue
    /// Values the payload has but Herald could not read, by path (`order.amount`, `items.0.price`),
    /// with the reason. The field is absent from the event; a message that prints it fails with the
    /// reason instead of printing nothing or something wrong.
    public var invalidFields: [String: String] = [:]

    public init(
        provider: String, event: String? = nil, occurredAt: Date? = nil, receivedAt: Date, sandbox: Bool = false,
        order: Order = Order(), customer: Customer = Customer(), driver: Driver = Driver(), items: [Item] = [],
        payload: JSONValue = .null
    ) {
        self.provider = provider
        self.event = event
        self.occurredAt = occurredAt
        self.receivedAt = receivedAt
        self.sandbox = sandbox
        self.order = order
        self.customer = customer
        self.driver = driver
        self.items = items
        self.payload = payload
    }

    public struct Order: Sendable, Equatable {
        public var reference: String?
        /// The provider's own status name (`out_for_delivery`, `Confirmed`, `DELIVERED`).
        public var status: String?
        /// From the payload when the provider sends it, otherwise the last status the store knew.
        public var previousStatus: String?
        /// The normalized name a preset maps the status to, when it has one.
        public var statusGroup: String?
        public var amount: Amount?
        public var trackingNumber: String?
        public var trackingURL: String?
        public var deliveryNotes: String?
        public var createdAt: Date?
        public var cancellationReason: String?

        public init(
            reference: String? = nil, status: String? = nil, previousStatus: String? = nil, statusGroup: String? = nil,
            amount: Amount? = nil, trackingNumber: String? = nil, trackingURL: String? = nil,
            deliveryNotes: String? = nil, createdAt: Date? = nil, cancellationReason: String? = nil
        ) {
            self.reference = reference
            self.status = status
            self.previousStatus = previousStatus
            self.statusGroup = statusGroup
            self.amount = amount
            self.trackingNumber = trackingNumber
            self.trackingURL = trackingURL
            self.deliveryNotes = deliveryNotes
            self.createdAt = createdAt
            self.cancellationReason = cancellationReason
        }
    }

    public struct Customer: Sendable, Equatable {
        public var name: String?
        /// As the provider sent it; E.164 normalization happens when a message is addressed.
        public var phone: String?
        public var city: String?
        public var address: String?
        public var locale: String?

        public init(
            name: String? = nil, phone: String? = nil, city: String? = nil, address: String? = nil,
            locale: String? = nil
        ) {
            self.name = name
            self.phone = phone
            self.city = city
            self.address = address
            self.locale = locale
        }
    }

    public struct Driver: Sendable, Equatable {
        public var name: String?
        public var phone: String?

        public init(name: String? = nil, phone: String? = nil) {
            self.name = name
            self.phone = phone
        }
    }

    public struct Item: Sendable, Equatable {
        public var name: String?
        public var sku: String?
        public var quantity: Decimal?
        public var price: Decimal?

        public init(name: String? = nil, sku: String? = nil, quantity: Decimal? = nil, price: Decimal? = nil) {
            self.name = name
            self.sku = sku
            self.quantity = quantity
            self.price = price
        }
    }
}

/// An amount as the provider states it, with the unit it uses.
///
/// `MAD 1799` from cod-fulfillment is 1 799 dirhams (major units); Elebne's `121000` is in
/// minor units (1 210.00 MRU). `majorUnits` gives the value to format either way.
public struct Amount: Sendable, Equatable {
    public enum Unit: String, Sendable, CaseIterable {
        case major
        case minor
    }

    /// The number exactly as the provider sent it.
    public var value: Decimal
    public var unit: Unit
    /// ISO 4217 code, when the payload or the provider profile names one.
    public var currency: String?

    public init(value: Decimal, unit: Unit = .major, currency: String? = nil) {
        self.value = value
        self.unit = unit
        self.currency = currency
    }

    /// Digits after the decimal point of a currency (ISO 4217 minor unit): MAD 2, KWD 3, LBP 0.
    public static func minorUnitScale(of currency: String?) -> Int {
        switch currency?.uppercased() {
        case "KWD", "BHD", "OMR", "JOD", "IQD", "LYD", "TND": return 3
        case "LBP", "JPY", "KRW", "XOF", "XAF", "CLP", "ISK", "VND", "UGX", "RWF", "DJF", "GNF", "KMF", "PYG":
            return 0
        default: return 2
        }
    }

    public var scale: Int { Amount.minorUnitScale(of: currency) }

    /// The amount in major units of its currency.
    public var majorUnits: Decimal {
        guard unit == .minor else { return value }
        var result = value
        for _ in 0..<scale { result /= 10 }
        return result
    }
}
