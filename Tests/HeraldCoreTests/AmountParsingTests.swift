import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

@Suite("Amounts written as text")
struct AmountParsingTests {
    static let nbsp = "\u{00A0}"
    static let narrowNbsp = "\u{202F}"

    func read(_ text: String, _ mark: Amount.DecimalMark = .auto) -> Decimal? {
        try? Amount.read(text, decimalMark: mark).value
    }

    func reason(_ text: String, _ mark: Amount.DecimalMark = .auto) -> String? {
        do {
            _ = try Amount.read(text, decimalMark: mark)
            return nil
        } catch {
            return error.reason
        }
    }

    @Test(
        "every spelling of 1 249.00",
        arguments: [
            "1 249.00", "1,249.00", "1.249,00", "1\(nbsp)249,00", "1\(narrowNbsp)249,00", "1249", "1249.00", "1249,00",
            "1 249", "1 249 DH", "1 249,00 DH", "MAD 1,249.00", "MAD1249", "1249,00 د.م.", "1249,00 د.م.\u{200F}",
            "\u{200F}د.م.\u{200F} 1.249,00", "١٬٢٤٩٫٠٠", "١٢٤٩", "١٬٢٤٩٫٠٠ د.م.", "۱۲۴۹", " 1249 ",
        ])
    func spellings(text: String) throws {
        #expect(try Amount.read(text, decimalMark: .auto).value == 1249)
    }

    @Test func jsonNumbersAreReadAsTheyAre() throws {
        #expect(try Amount.read(.number("1249"), decimalMark: .comma)?.value == 1249)
        #expect(try Amount.read(.number("1249.5"), decimalMark: .comma)?.value == Decimal(string: "1249.5"))
        #expect(try Amount.read(.number("3.000"), decimalMark: .auto)?.value == 3)
        #expect(try Amount.read(.number("1.5e3"), decimalMark: .auto)?.value == 1500)
        #expect(try Amount.read(.null, decimalMark: .auto) == nil)
        #expect(throws: Amount.TextError.self) { try Amount.read(.number("1e400"), decimalMark: .auto) }
        let huge = String(repeating: "9", count: 400)
        #expect(throws: Amount.TextError.self) { try Amount.read(.number(huge), decimalMark: .auto) }
        #expect(throws: Amount.TextError.self) { try Amount.read(huge, decimalMark: .auto) }
    }

    @Test(
        "decimals and signs",
        arguments: [
            ("12,5", "12.5"), ("12.5", "12.5"), ("0.500", "0.5"), ("0,500", "0.5"), ("1249.000", "1249"),
            ("1 249.000", "1249"), ("12.5000", "12.5"), ("-12.50", "-12.5"), ("-1 249,00 DH", "-1249"), ("−12", "-12"),
            ("1,249,000", "1249000"), ("1.249.000", "1249000"), ("1 249 000,5", "1249000.5"), ("$12.50", "12.5"),
            ("12 €", "12"), ("KWD 13,250.500", "13250.5"), ("3,250.500 د.ك", "3250.5"), ("15000 ل.ل.", "15000"),
            ("1210 UM", "1210"),
            ("0", "0"), ("-0", "0"), ("12345678901234567890123.5", "12345678901234567890123.5"),
        ])
    func decimals(text: String, expected: String) {
        #expect(read(text) == Decimal(string: expected))
    }

    @Test(
        "a lone separator before three digits needs amount_decimal",
        arguments: [("1,249", "1249", "1.249"), ("1.249", "1.249", "1249"), ("12.500", "12.5", "12500")])
    func ambiguous(text: String, withPoint: String, withComma: String) {
        #expect(reason(text)?.contains("set amount_decimal") == true)
        #expect(read(text, .point) == Decimal(string: withPoint))
        #expect(read(text, .comma) == Decimal(string: withComma))
    }

    @Test(
        "refused, with a reason",
        arguments: [
            ("12abc", "'abc' is not a currency code or symbol"),
            ("abc", "it has no digits"),
            ("", "it is empty"),
            ("1,2,3", "its digit groups are not thousands (1 2 3)"),
            ("1 24 9", "its digit groups are not thousands (1 24 9)"),
            ("1.249.00", "its digit groups are not thousands (1 249 00)"),
            ("1,249.000,00", "it has more than one decimal separator"),
            ("1,249.00.5", "it has more than one decimal separator"),
            ("1.249,00,5", "it has more than one decimal separator"),
            ("1 249.249,00", "it groups digits with two different separators"),
            ("12..5", "two separators follow each other"),
            ("12-5", "'-' cannot appear in a number"),
            ("12 5 DH DH", "'DH DH' is not a currency code or symbol"),
            ("MAD 12 DH", "it has text on both sides of the number ('MAD', 'DH')"),
            ("1e5", "'e' cannot appear in a number"),
            ("12,", "',' is not a currency code or symbol"),
        ])
    func refused(text: String, expected: String) {
        #expect(reason(text) == expected)
    }

    @Test func anExplicitMarkRefusesTheOtherAfterTheDecimals() {
        #expect(read("1,249.00", .point) == 1249)
        #expect(read("1.249,00", .comma) == 1249)
        #expect(reason("1.249,00", .point) == "',' after the decimal separator")
        #expect(reason("1249,00", .point) == "its digit groups are not thousands (1249 00)")
    }

    @Test func currenciesTheTextNamesAreReported() throws {
        #expect(try Amount.read("1 249 DH", decimalMark: .auto).currencies == ["MAD"])
        #expect(try Amount.read("1249,00 د.م.", decimalMark: .auto).currencies == ["MAD"])
        #expect(try Amount.read("$12", decimalMark: .auto).currencies.contains("USD"))
        #expect(try Amount.read("1249", decimalMark: .auto).currencies.isEmpty)
    }
}

@Suite("Unreadable amounts in events")
struct UnreadableAmountTests {
    let fixture: RenderFixture

    init() throws { fixture = try RenderFixture() }

    func normalize(amount: String, price: String = "1799", provider: String = "cod-fulfillment") -> NormalizedWebhook {
        let body = Array(
            #"""
            {"event":"order.status_updated","timestamp":"2026-05-09T12:00:00+02:00","order":{"reference":"ORD-1",\#
            "old_status":"prepared","new_status":"out_for_delivery","amount":\#(amount),"currency":"MAD"},\#
            "customer":{"name":"Karim Mansouri","phone":"+212661234567"},\#
            "items":[{"product_name":"Argivit","quantity":1,"price":\#(price)}]}
            """#.utf8)
        return fixture.ruleSet.provider(named: provider)!.normalize(Fixtures.request(provider: provider, body: body))
    }

    @Test func anUnreadableAmountLeavesTheEventUsable() throws {
        let result = normalize(amount: #""12abc""#)
        #expect(result.parseError == nil)
        let event = try #require(result.event)
        #expect(event.order.reference == "ORD-1")
        #expect(event.order.amount == nil)
        #expect(
            event.invalidFields == [
                "order.amount": "order.amount '12abc' is not a readable number: 'abc' is not a currency code or symbol"
            ])
        #expect(result.fieldProblems == event.invalidFields["order.amount"])
    }

    @Test func textualAmountsAreReadWithTheProvidersSetting() throws {
        #expect(normalize(amount: #""1 249,00 DH""#).event?.order.amount == Amount(value: 1249, currency: "MAD"))
        #expect(normalize(amount: #""1.249,00""#).event?.order.amount?.value == 1249)
        #expect(normalize(amount: "1249").event?.order.amount?.value == 1249)
        let dollars = normalize(amount: #""$12""#)
        #expect(dollars.event?.order.amount == nil)
        #expect(dollars.fieldProblems == "order.amount '$12' is in USD, not in the order's currency MAD")
    }

    @Test func itemPricesUseTheSameReader() throws {
        let result = normalize(amount: "1249", price: #""1,249""#)
        let event = try #require(result.event)
        #expect(event.items.first?.price == nil)
        #expect(event.invalidFields.keys.sorted() == ["items.0.price"])
        #expect(normalize(amount: "1249", price: #""1 249,00""#).event?.items.first?.price == 1249)
    }

    @Test func onlyMessagesPrintingTheAmountFail() throws {
        let event = try #require(normalize(amount: #""12abc""#).event)
        let reason = "order.amount '12abc' is not a readable number: 'abc' is not a currency code or symbol"
        let cases: [(template: String, problems: [String])] = [
            ("Montant à payer à la livraison : {{order.amount}}", [reason]),
            ("{{#order.amount}}Montant : {{order.amount}}{{/order.amount}}", []),
            ("{{#order.amount_formatted}} ({{order.amount_formatted}}){{/order.amount_formatted}}", []),
            ("{{order.amount_value}} {{order.currency}}", [reason]),
            ("{{#order}}{{amount_formatted}}{{/order}}", [reason]),
            ("Votre commande {{order.reference}} est en route.", []),
            ("{{^order.amount}}Aucun montant{{/order.amount}}", []),
        ]
        for (text, problems) in cases {
            let template = try TemplateStore.compile(text, name: "t", locale: "fr")
            let renderer = MessageRenderer(
                ruleSet: fixture.ruleSet, templates: TemplateStoreFixture.with(["t": ["fr": template]]))
            let message = try #require(renderer.render(fixture.rule("t", locale: "fr"), event: event))
            #expect(message.problems == problems, "\(text)")
        }
    }

    @Test func aShippedTemplateGuardingTheAmountSendsWithoutIt() throws {
        let event = try #require(normalize(amount: #""12abc""#).event)
        let message = try #require(fixture.renderer.render(fixture.rule("order_confirmed", locale: "fr"), event: event))
        #expect(message.problems == [])
        #expect(message.text.contains("est confirmée. Nous"))
    }

    @Test func anUnreadablePriceFailsOnlyTemplatesPrintingPrices() throws {
        let event = try #require(normalize(amount: "1249", price: #""12abc""#).event)
        let printing = try TemplateStore.compile("{{#items}}{{name}} : {{price}}\n{{/items}}", name: "t", locale: "fr")
        let notPrinting = try TemplateStore.compile("{{#items}}{{name}}\n{{/items}}", name: "u", locale: "fr")
        let renderer = MessageRenderer(
            ruleSet: fixture.ruleSet,
            templates: TemplateStoreFixture.with(["t": ["fr": printing], "u": ["fr": notPrinting]]))
        #expect(
            renderer.render(fixture.rule("t", locale: "fr"), event: event)?.problems
                == ["items.0.price '12abc' is not a readable number: 'abc' is not a currency code or symbol"])
        #expect(renderer.render(fixture.rule("u", locale: "fr"), event: event)?.problems == [])
    }

    @Test func dryRunShowsTheReason() throws {
        let result = normalize(amount: #""12abc""#)
        let event = try #require(result.event)
        var dry = DryRunResult.unreadable("x", "")
        dry.errors = []
        dry.event = event
        #expect(dry.textBlock().contains("  invalid  order.amount '12abc' is not a readable number"))
        #expect(dry.jsonLine().contains(#""invalid_fields":{"order.amount":"order.amount '12abc'"#))
    }
}

@Suite("amount_decimal in rules.yaml")
struct AmountDecimalSettingTests {
    func load(_ setting: String) throws -> ProviderProfile? {
        let yaml = """
            version: 1
            providers:
              cod-fulfillment: { preset: cod-fulfillment, secret: "${S}", amount_decimal: \(setting) }
            """
        return try RuleSet.parse(yaml: yaml, file: "rules.yaml", environment: Environment(["S": "k"]))
            .provider(named: "cod-fulfillment")
    }

    @Test func valuesAreTyped() throws {
        #expect(try load(#"",""#)?.amountDecimal == .comma)
        #expect(try load(#"".""#)?.amountDecimal == .point)
        #expect(try load("auto")?.amountDecimal == .auto)
        let yaml = "version: 1\nproviders:\n  cod-fulfillment: { preset: cod-fulfillment, secret: \"${S}\" }\n"
        let profile = try RuleSet.parse(yaml: yaml, file: "rules.yaml", environment: Environment(["S": "k"]))
        #expect(profile.provider(named: "cod-fulfillment")?.amountDecimal == .auto)
    }

    @Test func aBadValueIsReportedWithLineAndColumn() {
        do {
            _ = try load("comma")
            Issue.record("expected an error")
        } catch let errors as ConfigErrors {
            #expect(
                errors.errors.map(\.description) == [
                    #"rules.yaml:3:79: error: amount_decimal must be ".", "," or auto"#
                ])
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
