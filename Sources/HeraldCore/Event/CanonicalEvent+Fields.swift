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
            result += Self.urlEncoded(CanonicalField(rawValue: name).flatMap { self.value(of: $0) } ?? "")
            rest = rest[close.upperBound...]
        }
        return result + rest
    }

    /// The enrichment URL for this event: the template parsed when the provider loaded, each
    /// `{{field}}` (a canonical field name) percent-encoded; `{{#field}}…{{/field}}` only when the
    /// event has that field (`{{^field}}` when it does not).
    public func enrichmentURL(_ enrichment: Enrichment) -> String {
        guard let nodes = enrichment.urlTemplate else { return expandingURLPlaceholders(enrichment.url) }
        var result = ""
        expand(nodes, into: &result)
        return result
    }

    private func expand(_ nodes: [MustacheNode], into result: inout String) {
        for node in nodes {
            switch node {
            case .text(let text): result += text
            case .variable(let name, _, _): result += Self.urlEncoded(fieldValue(name) ?? "")
            case .section(let name, let inverted, let children, _):
                if (fieldValue(name) != nil) != inverted { expand(children, into: &result) }
            case .partial: continue
            }
        }
    }

    private func fieldValue(_ name: MustacheName) -> String? {
        CanonicalField(rawValue: name.description).flatMap { value(of: $0) }
    }

    private static func urlEncoded(_ text: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
