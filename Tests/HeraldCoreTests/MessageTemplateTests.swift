import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

/// Herald's message mode over the Mustache tree: names resolved against the canonical event.
@Suite("Message templates")
struct MessageTemplateTests {
    let fixture: RenderFixture

    init() throws { fixture = try RenderFixture() }

    /// The event of `delivered.json` with two lines, a driver and a payload of our own.
    func event() throws -> CanonicalEvent {
        var event = fixture.event("cod-fulfillment", "delivered.json")
        event.items = [
            CanonicalEvent.Item(name: "Tajine", sku: "T-1", quantity: 2, price: 120),
            CanonicalEvent.Item(name: "Couscoussier", quantity: 1),
        ]
        event.driver = CanonicalEvent.Driver(name: "Youssef Alaoui", phone: nil)
        event.payload = try JSONParser.parse(
            Array(#"{"data": {"name": "Savon", "tags": ["a", null, "b"], "n": 3, "flag": false}, "empty": []}"#.utf8))
        return event
    }

    func render(_ text: String, locale: String = "fr", event: CanonicalEvent? = nil) throws -> (String, [String]) {
        let template = try TemplateStore.compile(text, name: "t", locale: locale)
        let renderer = MessageRenderer(
            ruleSet: fixture.ruleSet, templates: TemplateStoreFixture.with(["t": [locale: template]]))
        let message = try #require(renderer.render(fixture.rule("t", locale: locale), event: event ?? self.event()))
        return (message.text, message.missingVariables)
    }

    @Test func sectionsIterateListsAndPushTheirValue() throws {
        #expect(try render("{{#items}}[{{name}} x{{quantity}}]{{/items}}").0 == "[Tajine x2][Couscoussier x1]")
        #expect(try render("{{#items}}{{sku}}{{^sku}}-{{/sku}} {{/items}}").0 == "T-1 - ")
        #expect(try render("{{items.0.name}}, {{items.1.name}}").0 == "Tajine, Couscoussier")
        #expect(
            try render("{{#order}}{{reference}}{{/order}} {{#driver}}{{first_name}}{{/driver}}").0
                == "ORD-000129 Youssef")
        // Names missing in the section's value are looked up outwards, to the event itself.
        #expect(try render("{{#items}}{{order.reference}};{{/items}}").0 == "ORD-000129;ORD-000129;")
        #expect(try render("{{#customer.first_name}}{{.}}{{/customer.first_name}}").0 == "Karim")
        #expect(try render("{{#sandbox}}test{{/sandbox}}{{^sandbox}}live{{/sandbox}} {{sandbox}}").0 == "live false")
    }

    @Test func payloadIsTheProvidersJSON() throws {
        #expect(try render("{{payload.data.name}} {{payload.data.n}} {{payload.data.tags.2}}").0 == "Savon 3 b")
        #expect(try render("{{#payload.data.tags}}<{{.}}>{{/payload.data.tags}}").0 == "<a><b>")
        #expect(try render("{{#payload.data}}{{name}} {{order.reference}}{{/payload.data}}").0 == "Savon ORD-000129")
        #expect(
            try render("{{^payload.empty}}none{{/payload.empty}}{{#payload.data.flag}}!{{/payload.data.flag}}").0
                == "none!")
    }

    @Test func missingValuesOutsideSectionsAreReported() throws {
        var event = try event()
        event.order.trackingURL = nil
        let (text, missing) = try render(
            "{{order.tracking_url}} {{#order.tracking_url}}{{order.tracking_url}}{{/order.tracking_url}}"
                + "{{payload.data.nothing}} {{order.nothing}} {{items.7.name}} {{order.reference}}", event: event)
        #expect(text == "    ORD-000129")
        #expect(missing == ["order.tracking_url", "payload.data.nothing", "order.nothing", "items.7.name"])
    }

    @Test func rightToLeftIsolatesEscapedValuesOnly() throws {
        let (text, _) = try render("{{order.reference}} {{{order.reference}}} {{&order.reference}}", locale: "ar")
        #expect(visible(text) == "⁅ORD-000129⁆ ORD-000129 ORD-000129")
        #expect(visible(try render("{{sandbox}} {{{sandbox}}}", locale: "ar").0) == "⁅false⁆ false")
    }

    @Test func aValueASectionTestedIsPrintedFromTheSection() throws {
        let nested =
            "{{#customer.first_name}}{{#items}}{{customer.first_name}}:{{name}} {{/items}}{{/customer.first_name}}"
        #expect(try render(nested).0 == "Karim:Tajine Karim:Couscoussier ")
        let inner = "{{#order.reference}}{{#order}}{{reference}}{{/order}}={{order.reference}}{{/order.reference}}"
        #expect(try render(inner).0 == "ORD-000129=ORD-000129")
        let (arabic, _) = try render("{{#order.reference}}{{order.reference}}{{/order.reference}}", locale: "ar")
        #expect(visible(arabic) == "⁅ORD-000129⁆")
    }

    @Test func standaloneLinesFollowTheSpecification() throws {
        let text = "Bonjour\n{{#items}}\n- {{name}}\n{{/items}}\n{{! fin }}\nMerci"
        #expect(try render(text).0 == "Bonjour\n- Tajine\n- Couscoussier\nMerci")
        #expect(try render("{{=<% %>=}}<% order.reference %> {{x}}").0 == "ORD-000129 {{x}}")
    }
}

@Suite("Enrichment URLs")
struct EnrichmentURLTests {
    @Test func fieldsArePercentEncodedAndSectionsTestThem() {
        var event = CanonicalEvent(provider: "wakilni", receivedAt: Date())
        event.order.reference = "A B/1"
        var enrichment = Enrichment(
            url: "https://shop.example/api/{{order.reference}}?phone={{#customer.phone}}1{{/customer.phone}}"
                + "{{^customer.phone}}0{{/customer.phone}}&n={{ customer.name }}",
            fields: [:])
        #expect(event.enrichmentURL(enrichment) == "https://shop.example/api/A%20B%2F1?phone=0&n=")
        event.customer.phone = "+9613123456"
        #expect(event.enrichmentURL(enrichment) == "https://shop.example/api/A%20B%2F1?phone=1&n=")
        // The URL is parsed again when it changes; text that is not Mustache is filled in as before.
        enrichment.url = "https://shop.example/orders/{{order.reference}}"
        #expect(event.enrichmentURL(enrichment) == "https://shop.example/orders/A%20B%2F1")
        enrichment.url = "https://shop.example/{{order.reference}}/{{#x}}"
        #expect(event.enrichmentURL(enrichment) == "https://shop.example/A%20B%2F1/")
    }
}
