import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

/// Rule sets written as a user writes them, matched against the seed payloads.
@Suite("Rule matching")
struct MatchingTests {
    static let header = """
        version: 1
        providers:
          cod-fulfillment: { preset: cod-fulfillment, secret: s }
          wakilni: { preset: wakilni, secret: s }
          armada: { preset: armada, app_id: a }
          elebne: { preset: elebne, secret: s }
        channels:
          sms: { type: twilio, account_sid: AC1, auth_token: t, from: "+212500000000" }
        rules:

        """

    static func ruleSet(_ rules: String) throws -> RuleSet {
        try RuleSet.parse(yaml: header + rules, file: "rules.yaml", environment: Environment([:]))
    }

    static func event(_ provider: String, _ file: String) -> CanonicalEvent {
        let ruleSet = try! Fixtures.shippedRuleSet()
        let body = Fixtures.sample(provider, file)
        return ruleSet.provider(named: provider)!.normalize(Fixtures.request(provider: provider, body: body)).event!
    }

    /// The seed cod-fulfillment event: out_for_delivery → delivered, notes "Call before delivery", 1799 MAD.
    static let delivered = event("cod-fulfillment", "delivered.json")

    /// One rule with `when:` = `condition`, against the seed cod-fulfillment event.
    static func outcome(_ condition: String, event: CanonicalEvent = delivered) throws -> RuleResult {
        let set = try ruleSet("  - id: r\n    when: \(condition)\n    send: { channel: sms, template: t }\n")
        return set.evaluate(event)[0]
    }

    @Test(
        "predicates that hold",
        arguments: [
            "{ where: { order.status: delivered } }",
            "{ where: { order.status: { equals: delivered } } }",
            "{ where: { order.status: { in: [returned, delivered] } } }",
            "{ where: { order.delivery_notes: { contains: call } } }",
            "{ where: { order.delivery_notes: { contains: CALL BEFORE } } }",
            "{ where: { customer.city: { contains: casablanca } } }",
            "{ where: { order.delivery_notes: { matches: '^Call\\b' } } }",
            "{ where: { order.tracking_number: { exists: true } } }",
            "{ where: { order.cancellation_reason: { exists: false } } }",
            "{ where: { order.amount: { gt: 1000 } } }",
            "{ where: { order.amount: { gte: 1799 } } }",
            "{ where: { order.amount: { lte: 1799.00 } } }",
            "{ where: { order.amount: { lt: 1800 } } }",
            "{ where: { occurred_at: { gte: '2026-05-09T10:00:00Z' } } }",
            "{ where: { order.created_at: { lt: '2026-05-09' } } }",
            "{ where: { payload.product.sku: MA-ArgivitClassic } }",
            "{ where: { payload.items.0.quantity: { equals: 1 } } }",
            "{ where: { order.amount: 1799.0 } }",
            "{ where: { provider: cod-fulfillment } }",
            "{ where: { order.status_group: delivered } }",
            "{ where: { any: [ { order.status: returned }, { customer.city: Casablanca } ] } }",
            "{ where: { all: [ { order.status: delivered }, { customer.city: Casablanca } ] } }",
            "{ where: { not: { order.status: returned } } }",
            "{ where: { not: { any: [ { order.status: returned }, { order.status: pending } ] } } }",
        ])
    func holds(condition: String) throws {
        let result = try Self.outcome(condition)
        #expect(result.matched, "\(condition): \(result.reason ?? "")")
    }

    @Test(
        "predicates that fail say why",
        arguments: [
            ("{ where: { order.status: returned } }", "where: order.status is 'delivered', wanted it to equals 'returned'"),
            ("{ where: { order.status: { in: [returned, pending] } } }", "where: order.status is 'delivered', wanted it to in [returned, pending]"),
            ("{ where: { order.delivery_notes: { contains: leave } } }", "where: order.delivery_notes is 'Call before delivery', wanted it to contains 'leave'"),
            ("{ where: { order.delivery_notes: { matches: '^call' } } }", "where: order.delivery_notes is 'Call before delivery', wanted it to matches /^call/"),
            ("{ where: { order.cancellation_reason: { exists: true } } }", "where: order.cancellation_reason is missing"),
            ("{ where: { order.tracking_number: { exists: false } } }", "where: order.tracking_number exists"),
            ("{ where: { order.amount: { gt: 1799 } } }", "where: order.amount is 1799, wanted it to > 1799"),
            ("{ where: { order.amount: { lt: 100 } } }", "where: order.amount is 1799, wanted it to < 100"),
            ("{ where: { order.cancellation_reason: { contains: x } } }", "where: order.cancellation_reason is missing (wanted it to contains 'x')"),
            ("{ where: { customer.name: { gt: 10 } } }", "where: customer.name is 'Karim Mansouri', not comparable to 10"),
            ("{ where: { not: { order.status: delivered } } }", "where: not: order.status equals 'delivered'"),
            ("{ where: { any: [ { order.status: returned }, { customer.city: Rabat } ] } }", "where: none of: order.status is 'delivered', wanted it to equals 'returned'; customer.city is 'Casablanca', wanted it to equals 'Rabat'"),
            ("{ provider: wakilni }", "provider: wanted wakilni, got cod-fulfillment"),
            ("{ provider: [wakilni, armada] }", "provider: wanted one of [armada, wakilni], got cod-fulfillment"),
            ("{ event: order.created }", "event: wanted order.created, got order.status_updated"),
            ("{ sandbox: true }", "sandbox: wanted true, got false"),
            ("{ transition: { from: prepared, to: out_for_delivery } }", "transition: wanted prepared→out_for_delivery, got out_for_delivery→delivered"),
            ("{ transition: { to: [returned, Failed] } }", "transition: wanted *→[returned, Failed], got out_for_delivery→delivered"),
            ("{ transition: { from: prepared } }", "transition: wanted prepared→*, got out_for_delivery→delivered"),
        ])
    func failsWithReason(condition: String, reason: String) throws {
        let result = try Self.outcome(condition)
        #expect(!result.matched)
        #expect(result.reason == reason)
    }

    @Test(
        "transitions with lists and wildcards",
        arguments: [
            "{ transition: { to: delivered } }",
            "{ transition: { from: out_for_delivery, to: delivered } }",
            "{ transition: { from: [returned, out_for_delivery], to: [delivered, DELIVERED] } }",
            "{ transition: { from: out_for_delivery } }",
            "{ transition: {} }",
            "{}",
        ])
    func transitionsMatch(condition: String) throws {
        #expect(try Self.outcome(condition).matched)
    }

    @Test func latinTextMatchesWithoutCaseOrAccents() throws {
        var event = Self.delivered
        for (notes, needle) in [("Appeler avant", "appeler"), ("Colis livré à la voisine", "livre"), ("LIVRE", "livré"), ("ÉTAGE 3", "etage")] {
            event.order.deliveryNotes = notes
            #expect(try Self.outcome("{ where: { order.delivery_notes: { contains: '\(needle)' } } }", event: event).matched, "\(notes) / \(needle)")
        }
    }

    @Test func everyMatchingRuleFiresUntilStop() throws {
        let set = try Self.ruleSet("""
              - id: any-delivery
                when: { transition: { to: delivered } }
                send: { channel: sms, template: t }
              - id: casablanca
                when: { where: { customer.city: Casablanca } }
                send: { channel: sms, template: t }
                stop: true
              - id: after-stop
                when: {}
                send: { channel: sms, template: t }
              - id: elsewhere
                when: { provider: wakilni }
                send: { channel: sms, template: t }
            """)
        #expect(set.evaluate(Self.delivered) == [
            RuleResult(id: "any-delivery", matched: true, reason: nil),
            RuleResult(id: "casablanca", matched: true, reason: nil),
            RuleResult(id: "after-stop", matched: false, reason: "stopped by earlier rule 'casablanca'"),
            RuleResult(id: "elsewhere", matched: false, reason: "stopped by earlier rule 'casablanca'"),
        ])
        #expect(set.matchingRules(Self.delivered).map(\.id) == ["any-delivery", "casablanca"])
        // A stop rule that does not match stops nothing.
        let wakilni = Self.event("wakilni", "2-order-confirmed.json")
        #expect(set.matchingRules(wakilni).map(\.id) == ["after-stop", "elsewhere"])
    }

    @Test func sandboxAndStockEventsFromElebne() throws {
        let set = try Self.ruleSet("""
              - id: ignore-sandbox
                when: { sandbox: true }
                stop: true
              - id: stock
                when: { provider: elebne, event: [product.stock_low, product.stock_out], sandbox: false }
                send: { channel: sms, to: "${MERCHANT_PHONE}", template: stock_alert, locale: fr }
            """)
        var stock = Self.event("elebne", "3-product-stock-low.json")
        #expect(set.matchingRules(stock).map(\.id) == ["stock"])
        stock.sandbox = true
        #expect(set.matchingRules(stock).map(\.id) == ["ignore-sandbox"])
        // The unset recipient is kept as written: its messages are held until it is set.
        #expect(
            set.rules[1].send
                == Send(channel: "sms", template: "stock_alert", to: "", locale: "fr", unsetTo: "${MERCHANT_PHONE}"))
        #expect(set.missingVariables.map(\.name) == ["MERCHANT_PHONE"])
    }

    @Test func environmentExpandsInSendTo() throws {
        let yaml = Self.header + "  - id: r\n    when: {}\n    send: { channel: sms, to: \"${MERCHANT_PHONE}\", template: t }\n"
        let set = try RuleSet.parse(yaml: yaml, file: "rules.yaml", environment: Environment(["MERCHANT_PHONE": "+212600000001"]))
        #expect(set.rules[0].send?.to == "+212600000001")
        #expect(set.missingVariables.isEmpty)
    }
}
