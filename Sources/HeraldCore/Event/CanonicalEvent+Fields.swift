import Foundation

extension CanonicalEvent {
    /// Sets a text field from outside the payload (enrichment). Dates and amounts are not set this way.
    public mutating func set(_ field: CanonicalField, _ value: String) {
        switch field {
        case .event: event = value
        case .orderReference: order.reference = value
        case .orderStatus: order.status = value
        case .orderPreviousStatus: order.previousStatus = value
        case .orderTrackingNumber: order.trackingNumber = value
        case .orderTrackingURL: order.trackingURL = value
        case .orderDeliveryNotes: order.deliveryNotes = value
        case .orderCancellationReason: order.cancellationReason = value
        case .customerName: customer.name = value
        case .customerPhone: customer.phone = value
        case .customerCity: customer.city = value
        case .customerAddress: customer.address = value
        case .customerLocale: customer.locale = value
        case .driverName: driver.name = value
        case .driverPhone: driver.phone = value
        case .occurredAt, .sandbox, .orderAmount, .orderCurrency, .orderCreatedAt: break
        }
    }

    /// `template` with every `{{field}}` (a canonical field name) replaced by the event's value,
    /// percent-encoded for a URL path or query.
    public func expandingURLPlaceholders(_ template: String) -> String {
        var result = ""
        var rest = Substring(template)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            result += rest[..<open.lowerBound]
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            let text = CanonicalField(rawValue: name).flatMap { self.value(of: $0) } ?? ""
            var allowed = CharacterSet.urlPathAllowed
            allowed.remove(charactersIn: "/?#")
            result += text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
            rest = rest[close.upperBound...]
        }
        return result + rest
    }
}
