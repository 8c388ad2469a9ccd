import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

/// Renders with the shipped rules and templates.
struct RenderFixture {
    let ruleSet: RuleSet
    let renderer: MessageRenderer

    init() throws {
        var environment = Fixtures.environment.values
        environment["MERCHANT_PHONE"] = "+22236000000"
        ruleSet = try Fixtures.shippedRuleSet(environment: Environment(environment))
        renderer = MessageRenderer(
            ruleSet: ruleSet, templates: try TemplateStore.load(path: Fixtures.root.appendingPathComponent("templates").path))
    }

    func event(_ provider: String, _ file: String) -> CanonicalEvent {
        let request = Fixtures.request(provider: provider, body: Fixtures.sample(provider, file))
        return ruleSet.provider(named: provider)!.normalize(request).event!
    }

    /// A rule sending `template` on `channel`, in `locale` when given.
    func rule(_ template: String, channel: String = "sms", locale: String? = nil) -> Rule {
        var rule = ruleSet.rules.first { $0.send != nil }!
        rule.send = Send(channel: channel, template: template, locale: locale)
        return rule
    }
}

enum TemplateStoreFixture {
    static func with(_ templates: [String: [String: CompiledTemplate]]) -> TemplateStore {
        TemplateStore(templates: templates)
    }
}

/// Shows bidi isolates as visible brackets in golden files and failure messages.
func visible(_ text: String) -> String {
    text.unicodeScalars.map { $0 == "\u{2068}" ? "⁅" : ($0 == "\u{2069}" ? "⁆" : ($0 == "\u{200F}" ? "‹RLM›" : String($0))) }.joined()
}

@Suite("Message rendering")
struct RenderTests {
    let fixture: RenderFixture

    init() throws { fixture = try RenderFixture() }

    /// Every shipped template in ar, fr and en, each with the seed payload it is written for,
    /// against `Golden/templates.txt`. Set HERALD_UPDATE_GOLDEN=1 to rewrite the file after a
    /// deliberate change, then read the diff.
    @Test func shippedTemplatesMatchTheirGoldenText() throws {
        let cases: [(template: String, provider: String, file: String)] = [
            ("order_confirmed", "storefront", "order-paid.json"),
            ("out_for_delivery", "cod-fulfillment", "delivered.json"),
            ("courier_will_call", "cod-fulfillment", "delivered.json"),
            ("on_the_way", "armada", "dispatched.json"),
            ("delivered", "cod-fulfillment", "delivered.json"),
            ("delivery_failed", "cod-fulfillment", "delivered.json"),
            ("order_cancelled", "elebne", "2-order-cancelled.json"),
            ("refund_processed", "elebne", "1-order-new.json"),
            ("stock_alert", "elebne", "3-product-stock-low.json"),
        ]
        var lines: [String] = []
        for (template, provider, file) in cases {
            let event = fixture.event(provider, file)
            for locale in ["ar", "fr", "en"] {
                let to = template == "stock_alert" ? "+22236000000" : nil
                var rule = fixture.rule(template, locale: locale)
                rule.send?.to = to
                let message = try #require(fixture.renderer.render(rule, event: event))
                #expect(message.locale == locale)
                #expect(message.missingVariables == [], "\(template)/\(locale)")
                let encoding = try #require(message.encoding)
                lines.append("[\(template)/\(locale)] \(encoding.alphabet.rawValue) \(encoding.segments) | \(visible(message.text))")
            }
        }
        let golden = Fixtures.root.appendingPathComponent("Tests/HeraldCoreTests/Golden/templates.txt")
        let actual = lines.joined(separator: "\n") + "\n"
        if ProcessInfo.processInfo.environment["HERALD_UPDATE_GOLDEN"] == "1" {
            try actual.write(to: golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(actual.split(separator: "\n") == expected.split(separator: "\n"))
    }

    @Test func arabicIsolatesTrackingNumberAndPhone() throws {
        let template = try TemplateStore.compile(
            "رقم التتبع {{order.tracking_number}} وهاتفك {{customer.phone}} يا {{customer.first_name}}، {{{order.reference}}}",
            name: "t", locale: "ar")
        let store = TemplateStoreFixture.with(["t": ["ar": template]])
        let renderer = MessageRenderer(ruleSet: fixture.ruleSet, templates: store)
        var event = fixture.event("cod-fulfillment", "delivered.json")
        event.customer.name = "كريم المنصوري"
        let message = try #require(renderer.render(fixture.rule("t", locale: "ar"), event: event))
        // Latin values isolated, the Arabic name left alone, the triple-mustache value opted out.
        #expect(
            Array(message.text.unicodeScalars)
                == Array("رقم التتبع \u{2068}F-CSA6SFJ6EMY\u{2069} وهاتفك \u{2068}+212661234567\u{2069} يا كريم، ORD-000129".unicodeScalars))
        #expect(message.encoding == SMSEncoding(alphabet: .ucs2, units: 69, segments: 1))
    }

    @Test func frenchAndEnglishAreNotIsolated() throws {
        let event = fixture.event("cod-fulfillment", "delivered.json")
        let message = try #require(fixture.renderer.render(fixture.rule("delivered", locale: "fr"), event: event))
        #expect(!message.text.unicodeScalars.contains("\u{2068}"))
        #expect(message.text == "Bonjour Karim, votre commande ORD-000129 a bien été livrée. Merci de votre confiance, au plaisir de vous revoir !")
        #expect(message.encoding == SMSEncoding(alphabet: .gsm7, units: 113, segments: 1))
    }

    @Test func amountsFollowTheRecipientsCountry() throws {
        var event = fixture.event("armada", "dispatched.json")
        event.customer.phone = "+96550001234"  // a Kuwaiti number: ar from locales_by_country, ar-KW digits
        let template = try TemplateStore.compile("{{order.amount}}", name: "t", locale: "ar")
        let renderer = MessageRenderer(ruleSet: fixture.ruleSet, templates: TemplateStoreFixture.with(["t": ["ar": template]]))
        let message = try #require(renderer.render(fixture.rule("t"), event: event))
        #expect(message.localeReason == "country KW")
        #expect(message.text == "\u{200F}٣٫٠٠٠ د.ك.\u{200F}")  // Arabic-Indic digits: nothing left-to-right to isolate
    }

    @Test(
        "Arabic plural categories",
        arguments: [(0, PluralCategory.zero), (1, .one), (2, .two), (3, .few), (11, .many), (100, .other), (103, .few), (111, .many)])
    func arabicPlurals(n: Int, category: PluralCategory) {
        #expect(PluralRules.category(of: n, locale: "ar") == category)
    }

    @Test func frenchAndEnglishPlurals() {
        #expect([0, 1, 2].map { PluralRules.category(of: $0, locale: "fr") } == [.one, .one, .other])
        #expect(PluralRules.category(of: 1_000_000, locale: "fr") == .many)
        #expect([0, 1, 2].map { PluralRules.category(of: $0, locale: "en-US") } == [.other, .one, .other])
    }

    @Test func itemPhrasesUseThePluralForms() throws {
        let template = try TemplateStore.compile("{{order.items_phrase}}", name: "t", locale: "ar")
        let renderer = MessageRenderer(ruleSet: fixture.ruleSet, templates: TemplateStoreFixture.with(["t": ["ar": template, "fr": try TemplateStore.compile("{{order.items_phrase}}", name: "t", locale: "fr")]]))
        var event = fixture.event("cod-fulfillment", "delivered.json")
        var phrases: [String] = []
        for quantity in [1, 2, 3, 11] {
            event.items = [CanonicalEvent.Item(name: "x", quantity: Decimal(quantity))]
            phrases.append(renderer.render(fixture.rule("t", locale: "ar"), event: event)!.text)
            phrases.append(renderer.render(fixture.rule("t", locale: "fr"), event: event)!.text)
        }
        // Latin digits inside an Arabic phrase are isolated too; the isolate takes the phrase's
        // direction from its first strong (Arabic) letter.
        #expect(phrases == ["منتج واحد", "1 article", "منتجان", "2 articles", "\u{2068}3 منتجات\u{2069}", "3 articles", "\u{2068}11 منتجًا\u{2069}", "11 articles"])
    }

    @Test func localeFallsBackWhenAFileIsMissing() throws {
        let fr = try TemplateStore.compile("Bonjour {{customer.first_name}}", name: "t", locale: "fr")
        let ar = try TemplateStore.compile("مرحبا {{customer.first_name}}", name: "t", locale: "ar")
        let event = fixture.event("cod-fulfillment", "delivered.json")
        // Only French: Arabic asked for, the default locale (fr) used, and said so.
        var renderer = MessageRenderer(ruleSet: fixture.ruleSet, templates: TemplateStoreFixture.with(["t": ["fr": fr]]))
        var message = try #require(renderer.render(fixture.rule("t", locale: "ar"), event: event))
        #expect(message.locale == "fr")
        #expect(message.localeReason == "rule; ar not available, used fr")
        #expect(message.text == "Bonjour Karim")
        // ar-MA falls back to ar.
        renderer = MessageRenderer(ruleSet: fixture.ruleSet, templates: TemplateStoreFixture.with(["t": ["fr": fr, "ar": ar]]))
        message = try #require(renderer.render(fixture.rule("t", locale: "ar-MA"), event: event))
        #expect(message.locale == "ar")
        #expect(message.text == "مرحبا \u{2068}Karim\u{2069}")
        // No template at all: a problem, not a crash.
        message = try #require(renderer.render(fixture.rule("absent"), event: event))
        #expect(message.problems == ["template 'absent' has no 'fr' version and no fallback"])
    }

    @Test func localeResolutionOrder() throws {
        let send = Send(channel: "sms", template: "t")
        let defaults = fixture.ruleSet.defaults
        var event = fixture.event("cod-fulfillment", "delivered.json")
        let provider = fixture.ruleSet.provider(named: "cod-fulfillment")
        #expect(LocaleResolution.resolve(send: send, event: event, provider: provider, recipientCountry: "LB", defaults: defaults) == ("ar", "country LB"))
        #expect(LocaleResolution.resolve(send: send, event: event, provider: provider, recipientCountry: "FR", defaults: defaults) == ("fr", "default"))
        var withProvider = provider!
        withProvider.locale = "en"
        #expect(LocaleResolution.resolve(send: send, event: event, provider: withProvider, recipientCountry: "LB", defaults: defaults) == ("en", "provider"))
        event.customer.locale = "ar-MA"
        #expect(LocaleResolution.resolve(send: send, event: event, provider: withProvider, recipientCountry: "LB", defaults: defaults) == ("ar-MA", "customer"))
        #expect(LocaleResolution.resolve(send: Send(channel: "sms", template: "t", locale: "fr"), event: event, provider: withProvider, recipientCountry: "LB", defaults: defaults) == ("fr", "rule"))
    }

    /// A value printed outside a section that the event lacks fails the message instead of leaving
    /// a hole in the sentence; inside a section it stays optional.
    @Test func aMissingValueOutsideASectionFailsTheMessage() throws {
        let event = fixture.event("wakilni", "2-order-confirmed.json")  // Wakilni sends no customer
        let template = try TemplateStore.compile(
            "Bonjour {{customer.name}}{{#customer.first_name}} ({{customer.first_name}}){{/customer.first_name}}, {{order.reference}}",
            name: "t", locale: "fr")
        let optional = try TemplateStore.compile(
            "Bonjour{{#customer.name}} {{customer.name}}{{/customer.name}}, {{order.reference}}", name: "o", locale: "fr")
        let renderer = MessageRenderer(
            ruleSet: fixture.ruleSet, templates: TemplateStoreFixture.with(["t": ["fr": template], "o": ["fr": optional]]))
        var rule = fixture.rule("t", locale: "fr")
        rule.send?.to = "+9613123456"
        let message = try #require(renderer.render(rule, event: event))
        #expect(message.missingVariables == ["customer.name"])
        #expect(message.problems == ["missing customer.name"])
        rule.send?.template = "o"
        let rendered = try #require(renderer.render(rule, event: event))
        #expect(rendered.problems == [])
        #expect(rendered.text == "Bonjour, 48213")
    }

    /// Meta refuses an empty template parameter, so a WhatsApp parameter the event lacks fails too.
    @Test func aMissingWhatsAppParameterFailsTheMessage() throws {
        var event = fixture.event("cod-fulfillment", "delivered.json")
        event.order.trackingNumber = nil
        let message = try #require(
            fixture.renderer.render(fixture.rule("out_for_delivery", channel: "whatsapp", locale: "en"), event: event))
        #expect(message.problems == ["missing order.tracking_number"])
    }

    @Test func whatsappMessagesCarryTheTemplateCall() throws {
        let event = fixture.event("cod-fulfillment", "delivered.json")
        let message = try #require(fixture.renderer.render(fixture.rule("out_for_delivery", channel: "whatsapp", locale: "en"), event: event))
        #expect(message.whatsapp == WhatsAppTemplateCall(name: "herald_out_for_delivery", language: "en_US", parameters: ["Karim", "ORD-000129", "F-CSA6SFJ6EMY"]))
        #expect(message.encoding == nil)
        #expect(message.text.hasPrefix("Hi Karim, your order ORD-000129 is out for delivery"))
        let arabic = try #require(fixture.renderer.render(fixture.rule("out_for_delivery", channel: "whatsapp", locale: "ar"), event: event))
        #expect(arabic.whatsapp?.language == "ar")
        #expect(arabic.whatsapp?.parameters == ["\u{2068}Karim\u{2069}", "\u{2068}ORD-000129\u{2069}", "\u{2068}F-CSA6SFJ6EMY\u{2069}"])
    }

    @Test func recipientsAndIdempotencyKeys() throws {
        var event = fixture.event("armada", "dispatched.json")
        let rule = fixture.rule("delivered")
        let first = try #require(fixture.renderer.render(rule, event: event))
        #expect(first.to == "+212680980068")  // international digits without "+", in a Kuwaiti payload
        #expect(first.idempotencyKey?.count == 64)
        #expect(fixture.renderer.render(rule, event: event)?.idempotencyKey == first.idempotencyKey)
        event.order.status = "delivered"
        #expect(fixture.renderer.render(rule, event: event)?.idempotencyKey != first.idempotencyKey)
        event.customer.phone = "12"
        let unusable = try #require(fixture.renderer.render(rule, event: event))
        #expect(unusable.to == nil)
        #expect(unusable.problems == ["recipient: not a valid number for KW"])
        #expect(unusable.idempotencyKey == nil)
    }
}

@Suite("SMS encoding and segments")
struct SMSEncodingTests {
    @Test(
        "segment borders",
        arguments: [
            (String(repeating: "a", count: 160), SMSEncoding.Alphabet.gsm7, 1),
            (String(repeating: "a", count: 161), .gsm7, 2),
            (String(repeating: "a", count: 306), .gsm7, 2),
            (String(repeating: "a", count: 307), .gsm7, 3),
            (String(repeating: "ب", count: 70), .ucs2, 1),
            (String(repeating: "ب", count: 71), .ucs2, 2),
            (String(repeating: "ب", count: 134), .ucs2, 2),
            (String(repeating: "ب", count: 135), .ucs2, 3),
            (String(repeating: "a", count: 69) + "ç", .ucs2, 1),
            (String(repeating: "a", count: 70) + "ç", .ucs2, 2),
            (String(repeating: "a", count: 158) + "€", .gsm7, 1),
            (String(repeating: "a", count: 159) + "€", .gsm7, 2),
            (String(repeating: "a", count: 159) + "[", .gsm7, 2),
            ("Votre colis a été livré à l'adresse indiquée. Ça marche ? Ñ Ü ß", .gsm7, 1),
            ("Colis reçu", .ucs2, 1),
        ])
    func segments(text: String, alphabet: SMSEncoding.Alphabet, segments: Int) {
        let encoding = SMSEncoding.of(text)
        #expect(encoding.alphabet == alphabet)
        #expect(encoding.segments == segments)
    }

    @Test func extensionCharactersCountTwice() {
        #expect(SMSEncoding.of("[€]").units == 6)
        #expect(SMSEncoding.of("😀").units == 2)  // a UTF-16 surrogate pair
    }

    @Test func smartEncodingReplacesPunctuationNeverLetters() {
        #expect(SMSEncoding.smartReplaced("Votre commande l’attend – «\u{00A0}merci\u{00A0}»…") == "Votre commande l'attend - \" merci \"...")
        #expect(SMSEncoding.smartReplaced("Colis reçu – merci") == nil)  // ç stays: UCS-2 either way
        #expect(SMSEncoding.smartReplaced("Already GSM") == nil)
    }
}

@Suite("Template folder loading")
struct TemplateStoreTests {
    @Test func brokenTemplatesAndBindingsAreReportedWithTheirFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-templates-\(UUID().uuidString)")
        let delivered = folder.appendingPathComponent("delivered")
        try FileManager.default.createDirectory(at: delivered, withIntermediateDirectories: true)
        try "Bonjour {{customer.first_name}}\n".write(to: delivered.appendingPathComponent("en.mustache"), atomically: true, encoding: .utf8)
        try "Bonjour {{#customer.name}} oops\n".write(to: delivered.appendingPathComponent("fr.mustache"), atomically: true, encoding: .utf8)
        try "name: x\nlanguage: { fr: fr }\n".write(to: delivered.appendingPathComponent("whatsapp.yaml"), atomically: true, encoding: .utf8)
        do {
            _ = try TemplateStore.load(path: folder.path)
            Issue.record("loaded a broken folder")
        } catch let errors as TemplateErrors {
            let path = delivered.path
            #expect(errors.errors.map(\.description) == [
                "\(path)/fr.mustache:1:32: error: a section is opened but never closed ({{/name}} missing)",
                "\(path)/whatsapp.yaml: error: unknown key 'language' (name, languages, body)",
            ])
        }
    }

    @Test func shippedTemplatesCoverEveryRuleInEveryLocale() throws {
        let store = try TemplateStore.load(path: Fixtures.root.appendingPathComponent("templates").path)
        let ruleSet = try Fixtures.shippedRuleSet()
        for rule in ruleSet.rules {
            guard let send = rule.send else { continue }
            #expect(store.locales(of: send.template) == ["ar", "en", "fr"], "\(send.template)")
        }
        #expect(store.binding("out_for_delivery")?.name == "herald_out_for_delivery")
    }
}
