import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

@Suite("Seed payloads into the canonical event")
struct NormalizationTests {
    let ruleSet: RuleSet

    init() throws {
        ruleSet = try Fixtures.shippedRuleSet()
    }

    func normalize(_ provider: String, _ file: String, headers: [HeaderField]? = nil) -> NormalizedWebhook {
        let body = Fixtures.sample(provider, file)
        return ruleSet.provider(named: provider)!.normalize(Fixtures.request(provider: provider, body: body, headers: headers))
    }

    func utc(_ text: String) -> Date { Timestamp.parse(text, defaultTimeZone: TimeZone(identifier: "UTC")!)! }

    @Test func codFulfillment() throws {
        let result = normalize("cod-fulfillment", "delivered.json")
        #expect(result.parseError == nil)
        #expect(result.dedupeKey == "ORD-000129|delivered")
        let event = try #require(result.event)
        #expect(event.provider == "cod-fulfillment")
        #expect(event.event == "order.status_updated")
        #expect(event.occurredAt == utc("2026-05-09T10:00:00Z"))
        #expect(event.sandbox == false)
        #expect(event.order.reference == "ORD-000129")
        #expect(event.order.status == "delivered")
        #expect(event.order.previousStatus == "out_for_delivery")
        #expect(event.order.statusGroup == "delivered")
        #expect(event.order.amount == Amount(value: 1799, unit: .major, currency: "MAD"))
        #expect(event.order.amount?.scale == 2)
        #expect(event.order.trackingNumber == "F-CSA6SFJ6EMY")
        #expect(event.order.deliveryNotes == "Call before delivery")
        #expect(event.order.createdAt == utc("2026-05-08T11:25:44Z"))
        #expect(event.customer == .init(name: "Karim Mansouri", phone: "+212661234567", city: "Casablanca", address: "123 Bd Mohammed V"))
        #expect(event.items == [.init(name: "Argivit Classic Tablets", sku: "MA-ArgivitClassic", quantity: 1, price: 1799)])
        #expect(event.payload["product"]?["sku"] == .string("MA-ArgivitClassic"))
    }

    @Test func wakilniLocalTimestampsAreBeirutTime() throws {
        let result = normalize("wakilni", "2-order-confirmed.json")
        #expect(result.parseError == nil)
        #expect(result.dedupeKey == "e2986cd1-1e85-4ef1-a85a-89488dd27b92")
        let event = try #require(result.event)
        #expect(event.event == "Order Confirmed")
        // 14:39:13 in Beirut in November (UTC+2) is 12:39:13 UTC.
        #expect(event.occurredAt == utc("2024-11-14T12:39:13Z"))
        #expect(event.order.reference == "48213")
        #expect(event.order.status == "Confirmed")
        #expect(event.order.previousStatus == "Pending")
        #expect(event.order.trackingNumber == "WK-48213")
        #expect(event.customer.phone == nil)  // Wakilni sends no customer: enrichment fills it later.
    }

    /// What `herald events` and `herald messages` show: local time with its offset, or Z for UTC.
    @Test(arguments: [
        ("Asia/Beirut", "2026-05-09T13:00:00.000+03:00"), ("America/St_Johns", "2026-05-09T07:30:00.000-02:30"),
        ("Africa/Casablanca", "2026-05-09T11:00:00.000+01:00"), ("UTC", "2026-05-09T10:00:00.000Z"),
    ])
    func localTimesCarryTheirOffset(zone: String, shown: String) throws {
        let utc = try #require(TimeZone(identifier: "UTC"))
        let instant = try #require(Timestamp.parse("2026-05-09T10:00:00Z", defaultTimeZone: utc))
        #expect(Timestamp.format(instant, in: try #require(TimeZone(identifier: zone))) == shown)
    }

    @Test func wakilniDeliveryIDComesFromTheHeader() {
        let body = Fixtures.sample("wakilni", "1-order-created.json")
        let headers = Fixtures.signedHeaders(provider: "wakilni", body: body, deliveryID: "dlv-42")
        let result = ruleSet.provider(named: "wakilni")!.normalize(
            Fixtures.request(provider: "wakilni", body: body, headers: headers))
        #expect(result.deliveryID == "dlv-42")
        #expect(result.event?.order.status == nil)
        #expect(result.parseError == nil)
    }

    @Test func armadaHasOnlyTheNewStatus() throws {
        let body = Fixtures.sample("armada", "dispatched.json")
        let headers = Fixtures.signedHeaders(provider: "armada", body: body, deliveryID: "wh-1")
        let result = ruleSet.provider(named: "armada")!.normalize(Fixtures.request(provider: "armada", body: body, headers: headers))
        #expect(result.parseError == nil)
        #expect(result.dedupeKey == "wh-1|EAA6CAC9D5|dispatched")
        #expect(result.deliveryID == "wh-1")
        let event = try #require(result.event)
        #expect(event.event == "order.updated")
        #expect(event.occurredAt == nil)
        #expect(event.order.reference == "EAA6CAC9D5")
        #expect(event.order.status == "dispatched")
        #expect(event.order.previousStatus == nil)
        #expect(event.order.amount == Amount(value: 3, unit: .major, currency: "KWD"))
        #expect(event.order.amount?.scale == 3)
        #expect(event.order.createdAt == utc("2026-01-07T20:13:25.615Z"))
        #expect(event.order.trackingURL == "https://sandbox.tracking.armadadelivery.com/618e4156-2da6-42f3-ae1c-3d85d5303bc0")
        #expect(event.customer == .init(name: "Nadeen", phone: "212680980068", address: "Salmiya, Block 7, St 74"))
        #expect(event.driver == .init(name: "Driver-bot-144502", phone: "09221909"))
    }

    @Test func elebneOrderAmountsAreMinorUnits() throws {
        let result = normalize("elebne", "1-order-new.json")
        #expect(result.parseError == nil)
        #expect(result.dedupeKey == "order.new|EL-3XXXXXXXXXXXXXX|NEW||||")
        let event = try #require(result.event)
        #expect(event.sandbox == false)
        #expect(event.occurredAt == utc("2026-04-04T14:30:00Z"))
        #expect(event.order.reference == "EL-3XXXXXXXXXXXXXX")
        #expect(event.order.status == "NEW")
        #expect(event.order.amount?.majorUnits == Decimal(1210))
        #expect(event.order.amount?.currency == "MRU")
        #expect(event.customer.name == "Aminata Diallo")
        #expect(event.customer.phone == "+22242345678")
        #expect(event.items == [.init(name: "Thiéboudienne Royale", sku: "6612f1a2b3c4d5e6f7890123", quantity: 2, price: 50000)])
    }

    @Test func elebneCancellationAndStockEvents() throws {
        let cancelled = try #require(normalize("elebne", "2-order-cancelled.json").event)
        #expect(cancelled.order.status == "CANCELLED")
        #expect(cancelled.order.previousStatus == "NEW")
        #expect(cancelled.order.cancellationReason == "Ingrédients indisponibles")

        let stock = normalize("elebne", "3-product-stock-low.json")
        #expect(stock.parseError == nil)
        #expect(stock.event?.event == "product.stock_low")
        #expect(stock.event?.order.reference == nil)
        #expect(stock.event?.payload["data"]?["quantity"] == .number("3"))
        #expect(stock.dedupeKey == "product.stock_low|||||6612f1a2b3c4d5e6f7890123|3")
    }

    @Test func storefrontOrder() throws {
        let result = normalize("storefront", "order-paid.json")
        #expect(result.parseError == nil)
        let event = try #require(result.event)
        #expect(event.order.reference == "100234")
        #expect(event.order.status == "paid")
        #expect(event.order.amount == Amount(value: Decimal(string: "349.00")!, unit: .major, currency: "MAD"))
        #expect(event.customer.city == "Rabat")
    }

    @Test func invalidJSONStillYieldsADedupeKeyAndTheReason() {
        let body = Array("{\"order\": {\"reference\": \"ORD-1\"".utf8)
        let result = ruleSet.provider(named: "cod-fulfillment")!.normalize(Fixtures.request(provider: "cod-fulfillment", body: body))
        #expect(result.event == nil)
        #expect(result.parseError == "invalid JSON at byte 31: unexpected end of input")
        #expect(result.dedupeKey.hasPrefix("sha256:"))
    }

    @Test func missingRequiredFieldsAreReported() {
        let body = Array(#"{"event":"order.status_updated","order":{"amount":"lots"}}"#.utf8)
        let result = ruleSet.provider(named: "cod-fulfillment")!.normalize(Fixtures.request(provider: "cod-fulfillment", body: body))
        #expect(
            result.parseError == "missing order.reference (order.reference); missing order.status (order.new_status)")
        #expect(result.fieldProblems == "order.amount 'lots' is not a readable number: it has no digits")
    }

    @Test func hugeAndNonFiniteAmountsDoNotCrash() {
        for amount in ["1e400", "-0", "123456789012345678901234567890.5"] {
            let body = Array(#"{"order":{"reference":"R","new_status":"delivered","amount":\#(amount)}}"#.utf8)
            let result = ruleSet.provider(named: "cod-fulfillment")!.normalize(Fixtures.request(provider: "cod-fulfillment", body: body))
            #expect(result.event?.order.reference == "R")
        }
    }
}

@Suite("Timestamps")
struct TimestampTests {
    static let beirut = TimeZone(identifier: "Asia/Beirut")!

    @Test(
        "accepted forms",
        arguments: [
            ("2026-05-09T12:00:00+02:00", 1_778_320_800.0),
            ("2026-05-09T10:00:00Z", 1_778_320_800.0),
            ("2026-05-09T10:00:00.000Z", 1_778_320_800.0),
            ("2026-05-09T10:00:00.250Z", 1_778_320_800.25),
            ("2026-05-09T07:00:00-0300", 1_778_320_800.0),
            ("2026-05-09 13:00:00", 1_778_320_800.0),  // Beirut, summer time (UTC+3)
            ("2024-11-14 14:39:13", 1_731_587_953.0),  // Beirut, winter time (UTC+2)
        ])
    func parses(text: String, seconds: Double) {
        #expect(Timestamp.parse(text, defaultTimeZone: Self.beirut)?.timeIntervalSince1970 == seconds)
    }

    @Test("rejected forms", arguments: ["", "yesterday", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-05-09T25:00:00Z", "2026-05-09T10:00:00+02:00 trailing", "1614265330"])
    func rejects(text: String) {
        #expect(Timestamp.parse(text, defaultTimeZone: Self.beirut) == nil)
    }

    @Test func formatsInUTCWithMilliseconds() {
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_767_816_805.615)) == "2026-01-07T20:13:25.615Z")
    }
}
