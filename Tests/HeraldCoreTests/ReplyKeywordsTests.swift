import Foundation
import HeraldCore
import Testing

/// What a customer's reply asks for: the channel's opt-out and opt-in keywords, matched the way a
/// customer types them (any case, accents or not, with spaces or a full stop around them).
@Suite("Reply keywords")
struct ReplyKeywordsTests {
    let defaults = ReplyKeywords()

    @Test(arguments: [
        "STOP", "stop", " Stop. ", "STOP\n", "Unsubscribe", "arrêt", "ARRET", "Arrêt !", "توقف", " توقف ",
        "إلغاء", "الغاء", "إِلغاء", "تـوقف",
    ])
    func theDefaultOptOutKeywordsInThreeLanguagesMatch(reply: String) {
        #expect(defaults.action(for: reply) == .optOut)
    }

    @Test(arguments: ["START", "start", "Unstop", "yes!", " YES "])
    func theDefaultOptInKeywordsMatch(reply: String) {
        #expect(defaults.action(for: reply) == .optIn)
    }

    /// A sentence is not a keyword: the customer may be asking something, and Twilio reads its own
    /// keywords the same way (the whole message).
    @Test(arguments: ["stop sending me this", "where is my order?", "", "   ", "STOPP", "لا توقف", "start?!x"])
    func otherRepliesAskForNothing(reply: String) {
        #expect(defaults.action(for: reply) == nil)
    }

    @Test func aChannelsOwnKeywordsReplaceTheDefaults() throws {
        let rules = try RuleSet.parse(
            yaml: """
                version: 1
                channels:
                  sms:
                    type: twilio
                    account_sid: AC1
                    auth_token: t
                    from: "+212500000000"
                    opt_out: [STOP, Désabonner, "بس"]
                    opt_in: REPRENDRE
                    opt_out_scope: channel
                  wa: { type: whatsapp-cloud, phone_number_id: "1", token: t }

                """, file: "rules.yaml", environment: Environment([:]))
        let sms = try #require(rules.channel(named: "sms")?.configuration.replyKeywords)
        #expect(sms.scope == .channel)
        #expect(sms.action(for: "desabonner") == .optOut)
        #expect(sms.action(for: "بس") == .optOut)
        #expect(sms.action(for: "Reprendre") == .optIn)
        #expect(sms.action(for: "ARRET") == nil)
        #expect(sms.action(for: "START") == nil)
        let wa = try #require(rules.channel(named: "wa")?.configuration.replyKeywords)
        #expect(wa == ReplyKeywords())
        #expect(wa.scope == .all)
    }

    @Test func aWrongScopeOrAnEmptyKeywordIsAnErrorAtItsLine() {
        let yaml = """
            version: 1
            channels:
              sms: { type: twilio, account_sid: AC1, auth_token: t, from: "+1", opt_out_scope: chanel }
              wa: { type: whatsapp-cloud, phone_number_id: "1", token: t, opt_in: ["START", " ! "] }

            """
        do {
            _ = try RuleSet.parse(yaml: yaml, file: "rules.yaml", environment: Environment([:]))
            Issue.record("the rules loaded")
        } catch let errors as ConfigErrors {
            #expect(
                errors.errors.map(\.description) == [
                    "rules.yaml:3:84: error: opt_out_scope of channel 'sms' must be all or channel, found 'chanel' "
                        + "(did you mean 'channel'?)",
                    "rules.yaml:4:71: error: opt_in of channel 'wa': keyword ' ! ' has nothing left to match "
                        + "once trimmed",
                ])
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
