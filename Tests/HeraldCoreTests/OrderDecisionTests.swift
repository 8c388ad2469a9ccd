import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

@Suite("Order decision: staleness, previous status and what the order remembers")
struct OrderDecisionTests {
    let cod: ProviderProfile
    let elebne: ProviderProfile
    let first = ValueSource(from: "01-order-new.json", event: "order.new")
    let later = ValueSource(from: "03-order-delivered.json", event: "order.delivered")

    init() throws {
        let ruleSet = try Fixtures.shippedRuleSet()
        cod = try #require(ruleSet.provider(named: "cod-fulfillment"))
        elebne = try #require(ruleSet.provider(named: "elebne"))
    }

    func event(
        _ provider: String = "elebne", name: String? = nil, status: String, previous: String? = nil,
        at seconds: TimeInterval? = nil, phone: String? = nil, customer: String? = nil, amount: Amount? = nil,
        items: [CanonicalEvent.Item] = []
    ) -> CanonicalEvent {
        CanonicalEvent(
            provider: provider, event: name, occurredAt: seconds.map(Date.init(timeIntervalSince1970:)),
            receivedAt: Date(timeIntervalSince1970: 1_000_000),
            order: .init(reference: "EL-1", status: status, previousStatus: previous, amount: amount),
            customer: .init(name: customer, phone: phone), items: items)
    }

    @Test func theFirstEventKnowsNothingAndIsRemembered() {
        let new = event(name: "order.new", status: "NEW", at: 100, phone: "+22242345678", customer: "Aminata")
        let decision = OrderDecision.decide(new, profile: elebne, known: nil, source: first)
        #expect(!decision.stale)
        #expect(decision.previousStatus == nil)
        #expect(decision.inherited.isEmpty)
        #expect(decision.event == new)
        #expect(decision.newState?.status == "NEW")
        #expect(decision.newState?.remembered(.customerPhone)?.value == .string("+22242345678"))
        #expect(decision.newState?.remembered(.customerPhone)?.source == first)
        #expect(decision.newState?.remembered(.customerCity) == nil)
    }

    @Test func anAbsentValueIsInheritedWithItsSource() throws {
        let items = [CanonicalEvent.Item(name: "Thiéboudienne", sku: nil, quantity: 2, price: 50000)]
        let new = event(
            name: "order.new", status: "NEW", at: 100, phone: "+22242345678", customer: "Aminata",
            amount: Amount(value: 100000, unit: .minor, currency: "MRU"), items: items)
        let known = try #require(OrderDecision.decide(new, profile: elebne, known: nil, source: first).newState)
        let delivered = event(name: "order.delivered", status: "DELIVERED", previous: "PICKED_UP", at: 200)
        let decision = OrderDecision.decide(delivered, profile: elebne, known: known, source: later)
        #expect(!decision.stale)
        #expect(decision.event.customer.phone == "+22242345678")
        #expect(decision.event.customer.name == "Aminata")
        #expect(decision.event.order.amount == Amount(value: 100000, unit: .minor, currency: "MRU"))
        #expect(decision.event.items == items)
        #expect(
            decision.inherited.map(\.field) == [.customerName, .customerPhone, .orderAmount, .orderCurrency, .items])
        #expect(decision.inherited.allSatisfy { $0.source == first })
        // The new state still remembers them, from where they came.
        #expect(decision.newState?.status == "DELIVERED")
        #expect(decision.newState?.remembered(.customerPhone)?.source == first)
    }

    @Test func aPresentValueWinsAndIsRememberedFromItsEvent() throws {
        let new = event(name: "order.new", status: "NEW", at: 100, phone: "+22242345678", customer: "Aminata")
        let known = try #require(OrderDecision.decide(new, profile: elebne, known: nil, source: first).newState)
        let changed = event(name: "order.delivered", status: "DELIVERED", at: 200, phone: "+22243000000")
        let decision = OrderDecision.decide(changed, profile: elebne, known: known, source: later)
        #expect(decision.event.customer.phone == "+22243000000")
        #expect(decision.inherited.map(\.field) == [.customerName])
        #expect(decision.newState?.remembered(.customerPhone)?.value == .string("+22243000000"))
        #expect(decision.newState?.remembered(.customerPhone)?.source == later)
        #expect(decision.newState?.remembered(.customerName)?.source == first)
    }

    @Test func thePreviousStatusComesFromThePayloadElseTheKnownStatus() throws {
        let known = OrderState(provider: "elebne", reference: "EL-1", status: "PREPARING", occurredAt: nil)
        let stated = OrderDecision.decide(
            event(status: "DELIVERED", previous: "PICKED_UP"), profile: elebne, known: known, source: later)
        #expect(stated.previousStatus == "PICKED_UP")
        let unstated = OrderDecision.decide(event(status: "DELIVERED"), profile: elebne, known: known, source: later)
        #expect(unstated.previousStatus == "PREPARING")
        #expect(unstated.event.order.previousStatus == "PREPARING")
    }

    @Test func anOlderEventIsStaleMovesNothingAndInheritsNothing() throws {
        let known = OrderState(
            provider: "cod-fulfillment", reference: "EL-1", status: "delivered",
            occurredAt: Date(timeIntervalSince1970: 500), eventID: 7,
            remembered: [RememberedValue(field: .customerName, value: .string("Karim"), source: later)])
        let older = event(
            "cod-fulfillment", status: "out_for_delivery", previous: "prepared", at: 100, phone: "+212661234567",
            customer: "K.")
        let decision = OrderDecision.decide(older, profile: cod, known: known, source: first)
        #expect(decision.stale)
        #expect(decision.previousStatus == "prepared")
        #expect(decision.inherited.isEmpty)
        #expect(decision.event == older)
        // It moves no status, but fills in what the order did not know; the newer name stays.
        #expect(decision.newState?.status == "delivered")
        #expect(decision.newState?.eventID == 7)
        #expect(decision.newState?.remembered(.customerName)?.value == .string("Karim"))
        #expect(decision.newState?.remembered(.customerPhone)?.source == first)
    }

    @Test func withoutTimestampsTheTransitionsTableDecidesStaleness() {
        let known = OrderState(provider: "cod-fulfillment", reference: "EL-1", status: "returned")
        let older = event("cod-fulfillment", status: "prepared")
        #expect(OrderDecision.decide(older, profile: cod, known: known, source: first).stale)
        let newer = event("cod-fulfillment", status: "return_received")
        #expect(!OrderDecision.decide(newer, profile: cod, known: known, source: first).stale)
    }

    @Test func anEventWithoutAStatusLeavesTheOrderAlone() {
        var stock = event(name: "product.stock_out", status: "x")
        stock.order = .init()
        let decision = OrderDecision.decide(stock, profile: elebne, known: nil, source: first)
        #expect(decision.newState == nil)
        #expect(decision.event == stock)
    }

    @Test func rememberedValuesSurviveTheirStoredJSON() {
        let values = [
            RememberedValue(field: .customerPhone, value: .string("+22242345678"), source: first),
            RememberedValue(
                field: .orderAmount, value: .object([("value", .number("100000")), ("unit", .string("minor"))]),
                source: ValueSource(from: "stored event 3", event: nil)),
        ]
        #expect(RememberedValue.values(fromJSON: RememberedValue.json(values).serialized()) == values)
    }
}
