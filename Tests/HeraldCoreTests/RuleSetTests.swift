import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

@Suite("rules.yaml loading")
struct RuleSetTests {
    func errors(_ yaml: String, environment: Environment = Fixtures.environment) -> [String] {
        do {
            _ = try RuleSet.parse(yaml: yaml, file: "rules.yaml", environment: environment)
            return []
        } catch let errors as ConfigErrors {
            return errors.errors.map(\.description)
        } catch {
            return ["unexpected \(error)"]
        }
    }

    @Test func shippedRulesLoadWithEveryPreset() throws {
        let ruleSet = try Fixtures.shippedRuleSet()
        #expect(ruleSet.providers.map(\.name) == ["cod-fulfillment", "wakilni", "armada", "elebne", "storefront"])
        #expect(ruleSet.providers.map(\.preset) == Presets.names.map(Optional.some))
        #expect(ruleSet.defaults.locale == "fr")
        #expect(ruleSet.defaults.timeZone.identifier == "Africa/Casablanca")
        #expect(ruleSet.defaults.quietHours == RuleSet.QuietHours(from: 21 * 60 + 30, to: 8 * 60 + 30))
        #expect(ruleSet.provider(named: "wakilni")?.timeZone.identifier == "Asia/Beirut")
    }

    @Test func unsetVariablesAreListedWithTheirPlace() throws {
        let ruleSet = try Fixtures.shippedRuleSet(environment: Environment([:]))
        let cod = try #require(ruleSet.missingVariables.first(where: { $0.name == "COD_WEBHOOK_SECRET" }))
        let line = try String(contentsOf: Fixtures.root.appendingPathComponent("rules.yaml"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex(where: { $0.contains("COD_WEBHOOK_SECRET") })
        #expect(cod.line == (line ?? -1) + 1)
        #expect(cod.usedBy == "provider 'cod-fulfillment' secret")
    }

    @Test func declarativeProviderFromDesign() throws {
        let yaml = """
            version: 1
            providers:
              myshop:
                verify: { scheme: hmac-sha256, header: X-Signature, encoding: base64, secret: "${MYSHOP_SECRET}" }
                fields: { event: event, order.reference: data.id, order.status: data.status, customer.phone: data.phone }
                dedupe: [data.id, data.status]
            """
        let ruleSet = try RuleSet.parse(yaml: yaml, file: "rules.yaml", environment: Environment(["MYSHOP_SECRET": "s3"]))
        let profile = try #require(ruleSet.provider(named: "myshop"))
        let body = Array(#"{"event":"order.paid","data":{"id":"A-9","status":"paid","phone":"+96170123456"}}"#.utf8)
        let headers = [HeaderField(name: "X-Signature", value: Fixtures.hmacBase64(body, secret: "s3"))]
        let request = Fixtures.request(provider: "myshop", body: body, headers: headers)
        #expect(profile.verification.verify(request, now: Date()) == .verified)
        let normalized = profile.normalize(request)
        #expect(normalized.dedupeKey == "A-9|paid")
        #expect(normalized.event?.customer.phone == "+96170123456")
        #expect(normalized.event?.order.status == "paid")
    }

    @Test func presetKeysCanBeOverridden() throws {
        let yaml = """
            version: 1
            providers:
              elebne: { preset: elebne, secret: "${S}", verify: { header: X-Elebne-Signature, encoding: base64 }, currency: EUR }
            """
        let profile = try #require(
            try RuleSet.parse(yaml: yaml, file: "rules.yaml", environment: Environment(["S": "k"])).provider(named: "elebne"))
        guard case .hmacSHA256(let header, let encoding, _, _) = profile.verification.scheme else {
            Issue.record("expected hmac-sha256")
            return
        }
        #expect(header == "X-Elebne-Signature")
        #expect(encoding == .base64)
        #expect(profile.currency == "EUR")
        #expect(profile.fields[.orderReference] == FieldSource(parsing: "data.referenceNumber"))
    }

    @Test func unknownKeysPointAtTheKeyWithASuggestion() {
        let yaml = """
            version: 1
            providers:
              cod-fulfillment: { preset: cod-fulfillment, secert: "${COD_WEBHOOK_SECRET}" }
            """
        #expect(errors(yaml) == [
            "rules.yaml:3:47: error: unknown key 'secert' in provider 'cod-fulfillment'; did you mean 'secret'?",
            "rules.yaml:3:20: error: provider 'cod-fulfillment' needs a secret: add secret: \"${SOME_VARIABLE}\"",
        ])
    }

    @Test func unknownPresetAndScheme() {
        let yaml = """
            version: 1
            providers:
              a: { preset: wakilini, secret: x }
              b:
                verify: { scheme: hmac-sha265, header: X, secret: x }
            """
        #expect(errors(yaml) == [
            "rules.yaml:3:6: error: unknown preset 'wakilini'; did you mean 'wakilni'? (presets: cod-fulfillment, wakilni, armada, elebne, storefront)",
            "rules.yaml:5:23: error: unknown verify.scheme 'hmac-sha265'; did you mean 'hmac-sha256'?",
            "rules.yaml:5:5: error: provider 'b' needs a preset or verify.scheme (hmac-sha256, standard-webhooks, header-token, none)",
        ])
    }

    @Test func tabIndentationIsNamed() {
        let yaml = "version: 1\nproviders:\n\tcod-fulfillment: { preset: cod-fulfillment, secret: x }\n"
        let found = errors(yaml)
        #expect(found.count == 1)
        #expect(found.first?.hasPrefix("rules.yaml:3:") == true)
        #expect(found.first?.hasSuffix("a tab character is used for indentation; indent with spaces") == true)
    }

    @Test func structuralErrors() {
        #expect(errors("providers: {}\n") == ["rules.yaml:1:1: error: missing 'version: 1' at the top of the rules file"])
        #expect(errors("version: 2\n") == ["rules.yaml:1:10: error: unsupported version '2'; this Herald reads version 1"])
        #expect(errors("version: 1\nproviders: [a, b]\n") == ["rules.yaml:2:12: error: providers must be a mapping (key: value), found a list"])
        #expect(errors("version: 1\ndefaults: { timezone: Mars/Olympus }\n") == [
            "rules.yaml:2:23: error: unknown time zone 'Mars/Olympus' (use an IANA name such as Africa/Casablanca)"
        ])
        let rule = "    when: {}\n    send: { channel: sms, template: t }\n"
        #expect(errors("version: 1\nrules:\n  - id: a\n" + rule + "  - id: a\n" + rule) == [
            "rules.yaml:6:9: error: duplicated rule id 'a' (first used on line 3)"
        ])
        #expect(errors("version: 1\nversion: 1\n").first?.contains("duplicated key 'version'") == true)
        #expect(errors("version: 1\nproviders:\n  x: { verify: { scheme: none }, allow_ips: [10.0.0.0/33] }\n") == [
            "rules.yaml:3:46: error: allow_ips: '10.0.0.0/33' is not an IP address or CIDR range"
        ])
    }

    @Test func aliasesAreRefusedSoAnchorsCannotExplode() {
        let yaml = """
            version: 1
            defaults: &d { locale: fr }
            providers:
              a: *d
            """
        #expect(errors(yaml) == [
            "rules.yaml:2:11: error: YAML anchors and aliases (&name, *name) are not supported in rules files; write the value out"
        ])
    }

    @Test func billionLaughsIsRefusedQuickly() {
        var yaml = "version: 1\ndefaults:\n  locales: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            let refs = Array(repeating: "*l\(level - 1)", count: 9).joined(separator: ", ")
            yaml += "x\(level): &l\(level) [\(refs)]\n"
        }
        #expect(errors(yaml) == [
            "rules.yaml:3:12: error: YAML anchors and aliases (&name, *name) are not supported in rules files; write the value out"
        ])
    }

    @Test func oversizedFileIsRefused() {
        let yaml = "version: 1\n# " + String(repeating: "x", count: RuleSet.maxFileSize) + "\n"
        #expect(errors(yaml) == ["rules.yaml:1:1: error: the rules file is larger than 1048576 bytes"])
    }
}

@Suite("CIDR")
struct CIDRTests {
    @Test func parsesAndMatches() throws {
        let v4 = try #require(CIDR("203.0.113.0/24"))
        #expect(v4.contains("203.0.113.255"))
        #expect(!v4.contains("203.0.114.1"))
        let host = try #require(CIDR("198.51.100.7"))
        #expect(host.prefixLength == 32)
        #expect(host.contains("198.51.100.7"))
        #expect(!host.contains("198.51.100.8"))
        let v6 = try #require(CIDR("2001:db8::/32"))
        #expect(v6.contains("2001:0db8:ffff::1"))
        #expect(!v6.contains("203.0.113.1"))
        #expect(CIDR("0.0.0.0/0")?.contains("8.8.8.8") == true)
        for bad in ["300.1.1.1", "1.2.3/8", "::1::2", "1.2.3.4/40", "abc"] {
            #expect(CIDR(bad) == nil)
        }
    }
}
