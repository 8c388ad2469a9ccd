import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

@Suite("herald check diagnostics")
struct RuleCheckTests {
    /// Runs the check on `yaml` with templates `name/{ar,fr,en}.mustache` for each name in `templates`.
    func check(_ yaml: String, templates: [String: [String]] = ["t": ["ar", "fr", "en"]], environment: [String: String] = [:])
        throws -> [String]
    {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-check-\(UUID().uuidString)")
        for (name, locales) in templates {
            let dir = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for locale in locales { try "x".write(to: dir.appendingPathComponent("\(locale).mustache"), atomically: true, encoding: .utf8) }
        }
        let ruleSet = try RuleSet.parse(yaml: yaml, file: "rules.yaml", environment: Environment(environment))
        return RuleCheck(ruleSet: ruleSet, templatesPath: folder.path).run().map { problem in
            problem.description.replacingOccurrences(of: folder.path, with: "templates")
        }
    }

    static let head = """
        version: 1
        providers:
          cod-fulfillment: { preset: cod-fulfillment, secret: s }
          armada: { preset: armada, app_id: a }
        channels:
          sms: { type: twilio, account_sid: AC1, auth_token: t, from: "+212500000000" }
        rules:

        """

    @Test func shippedRulesAreClean() throws {
        var environment = Fixtures.environment.values
        for name in ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "WA_PHONE_NUMBER_ID", "WA_TOKEN", "MERCHANT_PHONE"] {
            environment[name] = "set"
        }
        let ruleSet = try Fixtures.shippedRuleSet(environment: Environment(environment))
        let problems = RuleCheck(ruleSet: ruleSet, templatesPath: Fixtures.root.appendingPathComponent("templates").path).run()
        #expect(problems.map(\.description) == [])
        #expect(ruleSet.rules.count >= 9)
    }

    @Test func unknownStatusesProvidersChannelsAndTemplates() throws {
        let yaml = Self.head + """
              - id: a
                when: { provider: cod-fulfilment, transition: { to: delivred } }
                send: { channel: sms, template: t }
              - id: b
                when: { provider: cod-fulfillment, transition: { from: prepared, to: Delivered } }
                send: { channel: whatsap, template: missing }
              - id: c
                when: { transition: { to: dispatched } }
                send: { channel: sms, template: partial, fallback: mail }
            """
        let found = try check(yaml, templates: ["t": ["ar", "fr", "en"], "partial": ["fr"]])
        #expect(found == [
            "rules.yaml:9:23: error: rule 'a': unknown provider 'cod-fulfilment'; did you mean 'cod-fulfillment'?",
            "rules.yaml:12:74: error: rule 'b': status 'Delivered' is never sent by cod-fulfillment; did you mean 'delivered'?",
            "rules.yaml:13:22: error: rule 'b': unknown channel 'whatsap'",
            "rules.yaml:13:41: error: rule 'b': template 'missing' does not exist (no folder templates/missing)",
            "rules.yaml:16:37: error: rule 'c': template 'partial' has no 'ar' version (templates/partial/ar.mustache)",
            "rules.yaml:16:37: error: rule 'c': template 'partial' has no 'en' version (templates/partial/en.mustache)",
            "rules.yaml:16:56: error: rule 'c': unknown channel 'mail'",
        ])
    }

    /// A regional locale renders through the same fallback as the renderer (ar-MA → ar → default);
    /// check complains only when nothing would render, and warns when the default language would.
    @Test func regionalLocalesFollowTheFallback() throws {
        let yaml = Self.head + """
              - id: regional
                when: { transition: { to: delivered } }
                send: { channel: sms, template: t, locale: ar-MA }
              - id: spanish
                when: { transition: { to: delivered } }
                send: { channel: sms, template: t, locale: es }
              - id: nothing
                when: { transition: { to: delivered } }
                send: { channel: sms, template: regional, locale: de-DE }

            """
        let complete = try check(yaml, templates: ["t": ["ar", "fr", "en"], "regional": ["ar", "fr", "en"]])
        #expect(complete == [
            "rules.yaml:13:48: warning: rule 'spanish': template 't' has no 'es' version; its messages will be in 'en', the default locale",
            "rules.yaml:16:55: warning: rule 'nothing': template 'regional' has no 'de-DE' version; its messages will be in 'en', the default locale",
        ])
        // Only Arabic is required; 'regional' has no French file to fall back to.
        let arabicOnly = yaml.replacingOccurrences(of: "version: 1\n", with: "version: 1\ndefaults: { locale: fr, locales: [ar] }\n")
        let partial = try check(arabicOnly, templates: ["t": ["ar", "fr"], "regional": ["ar"]])
        #expect(partial == [
            "rules.yaml:14:48: warning: rule 'spanish': template 't' has no 'es' version; its messages will be in 'fr', the default locale",
            "rules.yaml:17:55: error: rule 'nothing': template 'regional' has no 'de-DE' version and nothing to fall back to (de-DE → de → fr)",
        ])
    }

    @Test func impossibleTransitionAndShadowedRule() throws {
        let yaml = Self.head + """
              - id: backwards
                when: { provider: cod-fulfillment, transition: { from: delivered, to: prepared } }
                send: { channel: sms, template: t }
              - id: everything-delivered
                when: { transition: { to: [delivered, returned] } }
                send: { channel: sms, template: t }
                stop: true
              - id: cod-delivered
                when: { provider: cod-fulfillment, transition: { to: delivered } }
                send: { channel: sms, template: t }
              - id: notes
                when: { transition: { to: delivered }, where: { order.delivery_notes: { contains: call } } }
                send: { channel: sms, template: t }
            """
        let found = try check(yaml)
        #expect(found == [
            "rules.yaml:9:52: error: rule 'backwards' can never fire: cod-fulfillment never goes from delivered to prepared",
            "rules.yaml:15:9: warning: rule 'cod-delivered' can never fire: rule 'everything-delivered' (line 11) matches every event it matches and has stop: true",
            "rules.yaml:18:9: warning: rule 'notes' can never fire: rule 'everything-delivered' (line 11) matches every event it matches and has stop: true",
        ])
    }

    @Test func aChannelWithUnsetCredentialsAndNoFallbackIsAWarning() throws {
        let yaml = """
            version: 1
            providers:
              cod-fulfillment: { preset: cod-fulfillment, secret: s }
            channels:
              sms: { type: twilio, account_sid: AC1, auth_token: t, from: "+212500000000" }
              wa: { type: whatsapp-cloud, phone_number_id: "1", token: "${WA_TOKEN}" }
            rules:
              - id: on-wa
                when: { transition: { to: delivered } }
                send: { channel: wa, template: t }
              - id: on-wa-or-sms
                when: { transition: { to: delivered } }
                send: { channel: wa, template: t, fallback: sms }
            """
        let found = try check(yaml).filter { !$0.contains("whatsapp.yaml") && !$0.contains("is not set") }
        #expect(found == [
            "rules.yaml:10:22: warning: rule 'on-wa': channel 'wa' has unset credentials (WA_TOKEN) and the rule "
                + "has no fallback: its messages will be held"
        ])
        #expect(try check(yaml, environment: ["WA_TOKEN": "x"]).filter { !$0.contains("whatsapp.yaml") } == [])
    }

    @Test func unsetVariablesAreErrorsOrWarnings() throws {
        let yaml = """
            version: 1
            providers:
              cod-fulfillment: { preset: cod-fulfillment, secret: "${COD_SECRET}" }
            channels:
              sms: { type: twilio, account_sid: AC1, auth_token: "${TWILIO_AUTH_TOKEN}", from: "+1" }
            """
        let found = try check(yaml)
        #expect(found == [
            "rules.yaml:3:55: error: environment variable COD_SECRET is not set (provider 'cod-fulfillment' secret)",
            "rules.yaml:5:54: error: environment variable TWILIO_AUTH_TOKEN is not set (channel 'sms')",
        ])
        let ruleSet = try RuleSet.parse(yaml: yaml, file: "rules.yaml", environment: Environment([:]))
        let relaxed = RuleCheck(ruleSet: ruleSet, templatesPath: "templates", allowMissingEnvironment: true).run()
        #expect(relaxed.map(\.severity) == [.warning, .warning])
        #expect(try check(yaml, environment: ["COD_SECRET": "x", "TWILIO_AUTH_TOKEN": "y"]) == [])
    }

    @Test func loadErrorsInRules() {
        func errors(_ rules: String) -> [String] {
            do {
                _ = try RuleSet.parse(yaml: Self.head + rules, file: "rules.yaml", environment: Environment([:]))
                return []
            } catch let errors as ConfigErrors {
                return errors.errors.map(\.description)
            } catch {
                return ["\(error)"]
            }
        }
        #expect(errors("  - id: r\n    when: { where: { order.delivery_notes: { matches: '(unclosed' } } }\n    send: { channel: sms, template: t }\n")
            == ["rules.yaml:9:55: error: invalid regular expression /(unclosed/: expected ')'"])
        #expect(errors("  - id: r\n    when: { where: { order.stauts: delivered } }\n    send: { channel: sms, template: t }\n")
            == ["rules.yaml:9:22: error: unknown field 'order.stauts' in where (canonical fields, or payload.<path>); did you mean 'order.status'?"])
        #expect(errors("  - id: r\n    when: { transition: { to: { a: b } } }\n    send: { channel: sms, template: t }\n")
            == ["rules.yaml:9:31: error: transition.to must be a value or a list of values, found a mapping"])
        #expect(errors("  - id: r\n    when: { where: { order.amount: { gt: lots } } }\n    send: { channel: sms, template: t }\n")
            == ["rules.yaml:9:42: error: order.amount.gt must be a number or an ISO 8601 date, found 'lots'"])
        #expect(errors("  - id: r\n    when: {}\n") == ["rules.yaml:8:5: error: rule 'r' needs 'send: { channel: …, template: … }' (or 'stop: true' to silence what it matches)"])
        #expect(errors("  - id: r\n    wen: {}\n    send: { channel: sms, template: t }\n").first == "rules.yaml:9:5: error: unknown key 'wen' in a rule; did you mean 'when'?")
        #expect(errors("  - when: {}\n") == ["rules.yaml:8:5: error: every rule needs an 'id'"])
        #expect(errors("  - id: r\n    when: {}\n    send: { channel: sms, template: t, priority: high }\n")
            == ["rules.yaml:10:40: error: unknown key 'priority' in send"])
    }
}

@Suite("herald check: the names templates print")
struct TemplateNameCheckTests {
    func problems(_ text: String, locale: String = "fr") throws -> [String] {
        let template = try TemplateStore.compile(text, name: "t", locale: locale)
        return TemplateStore(path: "templates", templates: ["t": [locale: template]]).unknownNames().map(\.description)
    }

    @Test func aTypoIsReportedAtItsLineAndColumnWithASuggestion() throws {
        #expect(try problems("Bonjour,\nvotre commande {{order.refrence}} a bien été livrée.") == [
            "templates/t/fr.mustache:2:16: error: unknown value 'order.refrence'; did you mean 'order.reference'?"
        ])
        #expect(try problems("{{#customer.first_name}}{{customer.frist_name}}{{/customer.first_name}} {{ordr.reference}}") == [
            "templates/t/fr.mustache:1:25: error: unknown value 'customer.frist_name'; did you mean 'customer.first_name'?",
            "templates/t/fr.mustache:1:73: error: unknown value 'ordr.reference'; did you mean 'order.reference'?",
        ])
    }

    @Test func everyDocumentedNameIsAccepted() throws {
        let text = """
            {{provider}} {{event}} {{occurred_at}} {{occurred_date}} {{occurred_time}} {{order.reference}}
            {{order.status}} {{order.previous_status}} {{order.status_group}} {{order.amount}} {{order.amount_formatted}}
            {{order.amount_value}} {{order.currency}} {{order.tracking_number}} {{{order.tracking_url}}}
            {{order.delivery_notes}} {{order.cancellation_reason}} {{order.created_at}} {{order.items_count}}
            {{order.items_phrase}} {{customer.name}} {{customer.first_name}} {{&customer.phone}} {{customer.city}}
            {{customer.address}} {{driver.name}} {{driver.first_name}} {{driver.phone}} {{payload.data.anything.0.x}}
            {{#items}}{{name}} {{sku}} {{quantity}} {{price}} {{order.reference}}{{/items}} {{items.0.name}}
            {{#order}}{{reference}}{{/order}} {{#order.tracking_url}}{{.}}{{/order.tracking_url}}
            {{^customer.name}}{{! a comment }}{{/customer.name}}
            """
        #expect(try problems(text) == [])
    }

    @Test func namesOutsideTheirSectionAreUnknown() throws {
        #expect(try problems("{{#items}}{{nmae}}{{/items}} {{name}}") == [
            "templates/t/fr.mustache:1:11: error: unknown value 'nmae'; did you mean 'name'?",
            "templates/t/fr.mustache:1:30: error: unknown value 'name'",
        ])
    }

    @Test func tagsAreReadAsTheRendererReadsThem() throws {
        // A comment, then new delimiters: only `<% ordr.reference %>` is a tag.
        #expect(try problems("{{! {{ordr.reference}} }}{{=<% %>=}}<% ordr.reference %> {{not_a_tag}}") == [
            "templates/t/fr.mustache:1:37: error: unknown value 'ordr.reference'; did you mean 'order.reference'?"
        ])
    }

    /// The renderer's contexts answer every name check accepts: the two lists cannot drift apart.
    @Test func everyAcceptedNameRendersForACompleteEvent() throws {
        let fixture = try RenderFixture()
        var event = fixture.event("armada", "dispatched.json")
        event.order.amount = Amount(value: 12, currency: "KWD")
        event.order.deliveryNotes = "n"
        event.order.trackingNumber = "T1"
        event.order.cancellationReason = "c"
        event.order.previousStatus = "p"
        event.order.statusGroup = "g"
        event.order.createdAt = Date()
        event.occurredAt = Date()
        event.customer = CanonicalEvent.Customer(
            name: "A B", phone: "+96550001234", city: "c", address: "a", locale: "ar")
        event.driver = CanonicalEvent.Driver(name: "D E", phone: "+96550001235")
        event.items = [CanonicalEvent.Item(name: "n", sku: "s", quantity: 1, price: 2)]
        for name in TemplateStore.documentedNames where !name.hasPrefix("payload") {
            let template = try TemplateStore.compile("{{\(name)}}", name: "t", locale: "fr")
            let renderer = MessageRenderer(ruleSet: fixture.ruleSet, templates: TemplateStore(templates: ["t": ["fr": template]]))
            let message = try #require(renderer.render(fixture.rule("t"), event: event))
            #expect(message.problems == [], "\(name)")
        }
    }
}
