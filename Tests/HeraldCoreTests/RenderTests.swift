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
                let encoding = try #require(message.explainedEncoding)
                #expect(encoding.segments == message.encoding?.segments)
                let because = encoding.ucs2BecauseText.map { " (because of \($0))" } ?? ""
                let head = "[\(template)/\(locale)] \(encoding.alphabet.rawValue)\(because) \(encoding.segments)"
                lines.append("\(head) | \(visible(message.text))")
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
        let encoding = try #require(message.explainedEncoding)
        #expect((encoding.alphabet, encoding.units, encoding.segments) == (.ucs2, 69, 1))
        // The isolates Herald inserts are named too, as code points in the text output.
        #expect(encoding.ucs2Because == ["ر", "ق", "م", "ا", "ل", "ت", "ب", "ع", "\u{2068}", "\u{2069}"])
        #expect(encoding.ucs2BecauseMore > 0)
        #expect(
            encoding.ucs2BecauseText == "ر, ق, م, ا, ل, ت, ب, ع, U+2068, U+2069 and \(encoding.ucs2BecauseMore) more")
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
    static func a(_ count: Int) -> String { String(repeating: "a", count: count) }
    static func ba(_ count: Int) -> String { String(repeating: "ب", count: count) }

    @Test(
        "segment borders",
        arguments: [
            (a(160), SMSEncoding.Alphabet.gsm7, 1),
            (a(161), .gsm7, 2),
            (a(306), .gsm7, 2),
            (a(307), .gsm7, 3),
            (ba(70), .ucs2, 1),
            (ba(71), .ucs2, 2),
            (ba(134), .ucs2, 2),
            (ba(135), .ucs2, 3),
            (a(69) + "ç", .ucs2, 1),
            (a(70) + "ç", .ucs2, 2),
            (a(158) + "€", .gsm7, 1),
            (a(159) + "€", .gsm7, 2),
            (a(159) + "[", .gsm7, 2),
            ("Votre colis a été livré à l'adresse indiquée. Ça marche ? Ñ Ü ß", .gsm7, 1),
            ("Colis reçu", .ucs2, 1),
            ("", .gsm7, 1),
        ])
    func segments(text: String, alphabet: SMSEncoding.Alphabet, segments: Int) {
        let encoding = SMSEncoding.of(text)
        #expect(encoding.alphabet == alphabet)
        #expect(encoding.segments == segments)
    }

    /// A handset never splits an escape + character (GSM-7) or a surrogate pair (UCS-2) across
    /// two parts: the part closes one unit early and the pair opens the next.
    @Test(
        "escapes and surrogate pairs are never split across parts",
        arguments: [
            // GSM-7, € = escape + character. Fits a single SMS up to 160 septets whatever the position.
            (a(158) + "€", 160, 1),
            (a(159) + "€", 161, 2),
            ("€" + a(158), 160, 1),
            // The € ends part 1 exactly (151 + 2 = 153).
            (a(151) + "€" + a(153), 306, 2),
            (a(151) + "€" + a(154), 307, 3),
            // The € would straddle septets 153/154: part 1 holds 152, the € opens part 2.
            (a(152) + "€" + a(152), 306, 3),
            (a(152) + "€" + a(151), 305, 2),
            (a(152) + "{}", 156, 1),
            (a(152) + "€" + a(10), 164, 2),
            // Ends part 2 exactly: 153 + 151 + 2.
            (a(153) + a(151) + "€", 306, 2),
            (a(153) + a(152) + "€", 307, 3),
            (a(153) + "€" + a(151), 306, 2),
            // Every septet an escape pair: 76 pairs = 152 septets per part.
            (String(repeating: "€", count: 80), 160, 1),
            (String(repeating: "€", count: 81), 162, 2),
            (String(repeating: "€", count: 152), 304, 2),
            (String(repeating: "€", count: 153), 306, 3),
        ])
    func gsm7Escapes(text: String, septets: Int, segments: Int) {
        let encoding = SMSEncoding.of(text)
        #expect(encoding.alphabet == .gsm7)
        #expect(encoding.units == septets)
        #expect(encoding.segments == segments)
    }

    @Test(
        "surrogate pairs in UCS-2",
        arguments: [
            (ba(68) + "😀", 70, 1),
            (ba(69) + "😀", 71, 2),
            ("😀" + ba(68), 70, 1),
            // The emoji ends part 1 exactly (65 + 2 = 67).
            (ba(65) + "😀" + ba(67), 134, 2),
            (ba(65) + "😀" + ba(68), 135, 3),
            // The emoji would sit at units 67/68: part 1 holds 66, the emoji opens part 2.
            (ba(66) + "😀" + ba(66), 134, 3),
            (ba(66) + "😀" + ba(65), 133, 2),
            (ba(66) + "😀", 68, 1),
            (ba(66) + "😀" + ba(3), 71, 2),
            // Only emoji: 33 per part.
            (String(repeating: "😀", count: 35), 70, 1),
            (String(repeating: "😀", count: 36), 72, 2),
            (String(repeating: "😀", count: 66), 132, 2),
            (String(repeating: "😀", count: 67), 134, 3),
            // GSM-7 text before the first UCS-2 character counts one unit each.
            (a(66) + "😀" + a(66), 134, 3),
            (a(65) + "😀" + "ç" + a(66), 134, 2),
        ])
    func ucs2SurrogatePairs(text: String, units: Int, segments: Int) {
        let encoding = SMSEncoding.of(text)
        #expect(encoding.alphabet == .ucs2)
        #expect(encoding.units == units)
        #expect(encoding.segments == segments)
        // Dry-run's explained count is the same count.
        let explained = SMSEncoding.explained(text)
        #expect((explained.units, explained.segments) == (units, segments))
    }

    @Test func extensionCharactersCountTwice() {
        #expect(SMSEncoding.of("[€]").units == 6)
        #expect(SMSEncoding.of("😀").units == 2)  // a UTF-16 surrogate pair
    }

    /// GSM 03.38 as published: the basic table (one septet) and the extension table (two).
    static let gsm7Basic = Set(
        ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
            + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà").unicodeScalars)
    static let gsm7Extension = Set("\u{0C}^{}\\[~]|€".unicodeScalars)

    @Test func everyCharacterCostsWhatGSM0338Says() {
        for value in 0..<0x2200 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let encoding = SMSEncoding.of(String(scalar))
            if Self.gsm7Basic.contains(scalar) {
                #expect(encoding.alphabet == .gsm7 && encoding.units == 1, "\(scalar.escaped(asASCII: true))")
            } else if Self.gsm7Extension.contains(scalar) {
                #expect(encoding.alphabet == .gsm7 && encoding.units == 2, "\(scalar.escaped(asASCII: true))")
            } else {
                #expect(encoding.alphabet == .ucs2, "\(scalar.escaped(asASCII: true))")
            }
        }
    }

    @Test func ucs2NamesTheFrenchCharactersThatForceIt() {
        let encoding = SMSEncoding.explained(
            "Bonjour Françoise, votre colis n’attend que vous. Reçu ? Très bien, à l’arrivée.")
        #expect(encoding.alphabet == .ucs2)
        // é, è, à are GSM-7; ç and ’ are not, each named once, in order of appearance.
        #expect(encoding.ucs2Because == ["ç", "’"])
        #expect(encoding.ucs2BecauseMore == 0)
        #expect(encoding.ucs2BecauseText == "ç, ’")
    }

    @Test func gsm7NamesNothing() {
        let encoding = SMSEncoding.explained("Votre colis a été livré. Ça marche ? 50 €")
        #expect(encoding.alphabet == .gsm7)
        #expect(encoding.ucs2Because.isEmpty)
        #expect(encoding.ucs2BecauseText == nil)
    }

    @Test func ucs2NamesWholeCharacters() {
        // `ê` typed as e + U+0302, an emoji with a skin tone, a flag: each as the reader sees it.
        let encoding = SMSEncoding.explained("Pre\u{0302}t 👍🏽 🇲🇦 👍🏽 😀 Ç")
        #expect(encoding.ucs2Because == ["e\u{0302}", "👍🏽", "🇲🇦", "😀"])
        #expect(encoding.ucs2BecauseText == "ê, 👍🏽, 🇲🇦, 😀")
        #expect(SMSEncoding.explained("Merci 😀").ucs2Because == ["😀"])
        // Decomposed accents sharing a combining mark are still different characters.
        #expect(SMSEncoding.explained("Pre\u{0302}t, ho\u{0302}tel, pre\u{0302}t").ucs2Because == ["e\u{0302}", "o\u{0302}"])
    }

    @Test func invisibleCharactersAreShownAsCodePoints() {
        let encoding = SMSEncoding.explained("Total\u{00A0}: 250 MAD\tpayé")
        #expect(encoding.ucs2Because == ["\u{00A0}", "\t"])
        #expect(encoding.ucs2BecauseText == "U+00A0, U+0009")
    }

    @Test func arabicListsItsFirstCharactersAndCountsTheRest() {
        let text = "مرحبا فاطمة، طلبك رقم \u{2068}ORD-000129\u{2069} في الطريق. سيتصل بك السائق قبل الوصول."
        let encoding = SMSEncoding.explained(text)
        #expect(encoding.ucs2Because == ["م", "ر", "ح", "ب", "ا", "ف", "ط", "ة", "،", "ل"])
        var distinct: [Character] = []
        for character in text where !SMSEncoding.fitsGSM7(String(character)) && !distinct.contains(character) {
            distinct.append(character)
        }
        #expect(encoding.ucs2Because.count == SMSEncoding.ucs2BecauseLimit)
        #expect(encoding.ucs2BecauseMore == distinct.count - SMSEncoding.ucs2BecauseLimit)
        #expect(encoding.ucs2BecauseText == "م, ر, ح, ب, ا, ف, ط, ة, ،, ل and \(encoding.ucs2BecauseMore) more")
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
                "\(path)/fr.mustache:1:9: error: a section is opened but never closed ({{/customer.name}} missing)",
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
