import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

extension IntakeKeys {
    /// The keys `normalize` gives: what intake's must equal.
    init(_ normalized: NormalizedWebhook) {
        let json = normalized.event != nil
        self.init(
            dedupeKey: normalized.dedupeKey, deliveryID: normalized.deliveryID, eventName: normalized.event?.event,
            orderReference: normalized.event?.order.reference, status: normalized.event?.order.status,
            parseError: json ? nil : normalized.parseError)
    }
}

/// Intake stores an event with keys it reads cheaply; the processor normalizes the body later.
/// Both must name the same event (its dedupe key) and the same order (the processor takes one
/// order's events in turn by the reference intake stored).
@Suite("Intake's keys")
struct IntakeKeysTests {
    let ruleSet: RuleSet
    init() throws { ruleSet = try Fixtures.shippedRuleSet() }

    @Test func everySampleOfEveryProviderGivesTheKeysNormalizationGives() throws {
        var checked = 0
        for profile in ruleSet.providers {
            for file in try Fixtures.sequence(profile.name) where file.hasSuffix(".json") {
                let input = try Fixtures.envelope(profile.name, file)
                let request = WebhookRequest(
                    provider: profile.name, headers: input.headers, body: input.body, receivedAt: Date())
                let keys = profile.intakeKeys(request)
                #expect(keys == IntakeKeys(profile.normalize(request)), "\(profile.name)/\(file)")
                #expect(keys.parseError == nil, "\(profile.name)/\(file)")
                checked += 1
            }
        }
        #expect(checked >= 15)
    }

    @Test func aBodyThatIsNotJSONIsKeyedByItsHashWithTheReason() {
        let profile = ruleSet.provider(named: "cod-fulfillment")!
        let request = Fixtures.request(provider: "cod-fulfillment", body: Array("{\"order\":".utf8))
        let keys = profile.intakeKeys(request)
        #expect(keys.dedupeKey.hasPrefix("sha256:"))
        #expect(keys.parseError?.hasPrefix("invalid JSON") == true)
        #expect(keys.orderReference == nil)
        #expect(keys == IntakeKeys(profile.normalize(request)))
    }

    /// A body missing a required field still names its order: the processor finds the problem.
    @Test func aMissingFieldIsTheProcessorsToFind() {
        let profile = ruleSet.provider(named: "cod-fulfillment")!
        let body = Fixtures.codPayload(reference: "ORD-9", from: "prepared", to: "out_for_delivery")
        let text = String(decoding: body, as: UTF8.self).replacingOccurrences(of: "\"new_status\"", with: "\"state\"")
        let request = Fixtures.request(provider: "cod-fulfillment", body: Array(text.utf8))
        let keys = profile.intakeKeys(request)
        #expect(keys.orderReference == "ORD-9")
        #expect(keys.status == nil)
        #expect(keys.parseError == nil)
        #expect(profile.normalize(request).parseError?.contains("missing order.status") == true)
    }
}
