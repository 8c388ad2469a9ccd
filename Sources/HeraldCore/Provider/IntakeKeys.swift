/// What intake reads from a verified webhook before it answers: the keys that identify it (its
/// dedupe key and delivery id) and the order it belongs to (the processor takes one order's
/// events in turn, so the reference is stored with the event). One JSON parse and a few field
/// lookups: amounts, dates, phone numbers, required fields and the order's state are the
/// processor's (`normalize`, then `OrderDecision`), off the path of the 200.
public struct IntakeKeys: Sendable, Equatable {
    public var dedupeKey: String
    public var deliveryID: String?
    public var eventName: String?
    public var orderReference: String?
    public var status: String?
    /// Why the body is not JSON; nil when it is (missing or unreadable fields are found when the
    /// event is processed).
    public var parseError: String?

    public init(
        dedupeKey: String, deliveryID: String? = nil, eventName: String? = nil, orderReference: String? = nil,
        status: String? = nil, parseError: String? = nil
    ) {
        self.dedupeKey = dedupeKey
        self.deliveryID = deliveryID
        self.eventName = eventName
        self.orderReference = orderReference
        self.status = status
        self.parseError = parseError
    }
}

extension ProviderProfile {
    /// Reads intake's keys from `request`; the same values `normalize` gives for them.
    public func intakeKeys(_ request: WebhookRequest) -> IntakeKeys {
        let body: JSONValue
        do throws(JSONParseError) {
            body = try JSONParser.parse(request.body)
        } catch {
            return IntakeKeys(
                dedupeKey: Self.bodyHash(request.body), deliveryID: readDeliveryID(of: request, body: nil),
                parseError: error.description)
        }
        return IntakeKeys(
            dedupeKey: dedupeKey(request: request, body: body),
            deliveryID: readDeliveryID(of: request, body: body),
            eventName: text(of: .event, in: request, body: body),
            orderReference: text(of: .orderReference, in: request, body: body),
            status: text(of: .orderStatus, in: request, body: body))
    }
}
