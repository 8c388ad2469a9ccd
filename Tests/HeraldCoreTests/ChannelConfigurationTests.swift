import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

@Suite("Typed channel configuration")
struct ChannelConfigurationTests {
    func errors(_ channels: String, environment: [String: String] = [:]) -> [String] {
        do {
            _ = try RuleSet.parse(
                yaml: "version: 1\nchannels:\n" + channels, file: "rules.yaml", environment: Environment(environment))
            return []
        } catch let errors as ConfigErrors {
            return errors.errors.map(\.description)
        } catch {
            return ["unexpected \(error)"]
        }
    }

    @Test func misspeltKeyIsNamedAtItsLineAndColumnWithASuggestion() {
        let found = errors(
            """
              sms:
                type: twilio
                acount_sid: "${TWILIO_ACCOUNT_SID}"
                auth_token: t
                from: "+212500000000"

            """, environment: ["TWILIO_ACCOUNT_SID": "AC1"])
        #expect(
            found == [
                "rules.yaml:5:5: error: unknown key 'acount_sid' in channel 'sms' (did you mean 'account_sid'?)",
                "rules.yaml:3:3: error: channel 'sms' (twilio) needs 'account_sid'",
            ])
    }

    @Test func keysOfAnotherTypeAreUnknown() {
        let found = errors("  wa: { type: whatsapp-cloud, phone_number_id: \"1\", token: t, from: \"+1\" }\n")
        #expect(
            found == [
                "rules.yaml:3:63: error: unknown key 'from' in channel 'wa' (a whatsapp-cloud channel takes "
                    + "base_url, rate, recipient_interval, phone_number_id, token, version, app_secret, verify_token, "
                    + "opt_out, opt_in, opt_out_scope)"
            ])
    }

    @Test func missingRequiredKeysAndWrongTypesAreErrors() {
        let found = errors(
            """
              wa: { type: whatsapp-cloud, token: t }
              gateway: { type: http, url: "https://sms.example.ma/v1", headers: "Bearer x", rate: fast }
              sms: { type: twilio, account_sid: [a, b], auth_token: t, from: "+1", whatsapp: maybe }

            """)
        #expect(
            found == [
                "rules.yaml:3:3: error: channel 'wa' (whatsapp-cloud) needs 'phone_number_id'",
                "rules.yaml:4:87: error: rate of channel 'gateway' must be a number",
                "rules.yaml:4:69: error: headers of channel 'gateway' must be a mapping (key: value), found 'Bearer x'",
                "rules.yaml:5:37: error: account_sid of channel 'sms' must be a single value, found a list",
                "rules.yaml:5:82: error: whatsapp of channel 'sms' must be true or false, found 'maybe'",
            ])
    }

    @Test func unsetVariablesLeaveAChannelThatCannotSend() throws {
        let ruleSet = try RuleSet.parse(
            yaml: """
                version: 1
                channels:
                  sms: { type: twilio, account_sid: "${SID}", auth_token: "${TOKEN}", from: "+212500000000" }
                  gateway:
                    type: http
                    url: https://sms.example.ma/v1/messages
                    method: put
                    format: form
                    headers: { Authorization: "Bearer ${GATEWAY_TOKEN}" }
                    body: { to: "{{to}}", message: "{{text}}" }
                    smart_encoding: true
                    rate: 5
                """, file: "rules.yaml", environment: Environment(["SID": "AC1", "GATEWAY_TOKEN": "g"]))
        let sms = try #require(ruleSet.channel(named: "sms"))
        #expect(!sms.canSend)
        #expect(sms.missing == ["TOKEN"])
        #expect(sms.configuration == .twilio(.init(accountSID: "AC1", authToken: "", from: "+212500000000")))
        let gateway = try #require(ruleSet.channel(named: "gateway"))
        #expect(gateway.canSend)
        #expect(
            gateway.configuration
                == .http(
                    .init(
                        url: "https://sms.example.ma/v1/messages", method: "PUT",
                        headers: [.init("Authorization", "Bearer g")],
                        body: [.init("to", "{{to}}"), .init("message", "{{text}}")], format: .form, smartEncoding: true,
                        common: .init(rate: 5))))
    }
}

@Suite("Receipt settings of channels")
struct ReceiptChannelConfigurationTests {
    @Test func whatsAppCloudReceiptSecretsAreTypedAndDoNotHoldSending() throws {
        let ruleSet = try RuleSet.parse(
            yaml: """
                version: 1
                channels:
                  wa:
                    type: whatsapp-cloud
                    phone_number_id: "1"
                    token: t
                    app_secret: "${WA_APP_SECRET}"
                    verify_token: "${WA_VERIFY_TOKEN}"

                """, file: "rules.yaml", environment: Environment(["WA_APP_SECRET": "s3cret"]))
        let channel = try #require(ruleSet.channel(named: "wa"))
        guard case .whatsAppCloud(let wa) = channel.configuration else {
            Issue.record("not whatsapp-cloud")
            return
        }
        #expect(wa.appSecret == "s3cret")
        #expect(wa.verifyToken == nil)
        #expect(channel.canSend)
        #expect(ruleSet.missingVariables.map(\.description).contains { $0.contains("WA_VERIFY_TOKEN") })
    }

    @Test func aReceiptSecretThatIsNotTextIsAnErrorAtItsLineAndColumn() {
        do {
            _ = try RuleSet.parse(
                yaml:
                    "version: 1\nchannels:\n"
                    + "  wa: { type: whatsapp-cloud, phone_number_id: \"1\", token: t, app_secret: [a] }\n",
                file: "rules.yaml", environment: Environment([:]))
            Issue.record("parsed")
        } catch let errors as ConfigErrors {
            #expect(
                errors.errors.map(\.description).contains { $0.hasPrefix("rules.yaml:3:") && $0.contains("app_secret") }
            )
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
