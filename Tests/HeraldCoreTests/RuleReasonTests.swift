import Foundation
import HeraldCore
import Testing

/// A rule's miss names what it wanted; the wanted providers, events and transition are worked
/// out when the rule is built and kept right when it is changed afterwards (as the loader does).
@Suite("Why a rule did not match")
struct RuleReasonTests {
    let event = CanonicalEvent(provider: "cod-fulfillment", event: "order.updated", receivedAt: Date())

    @Test func aChangedConditionIsNamedAsItIsNow() {
        var when = When(providers: ["armada"])
        #expect(when.failure(on: event) == "provider: wanted armada, got cod-fulfillment")
        when.providers = ["wakilni", "elebne"]
        #expect(when.failure(on: event) == "provider: wanted one of [elebne, wakilni], got cod-fulfillment")
        when.providers = nil
        when.events = ["order.new"]
        #expect(when.failure(on: event) == "event: wanted order.new, got order.updated")
        when.events = ["order.new", "order.cancelled"]
        #expect(when.failure(on: event) == "event: wanted one of [order.cancelled, order.new], got order.updated")
        when.events = nil
        when.transition = TransitionMatch(from: ["prepared", "preparing"], to: ["delivered"])
        #expect(when.failure(on: event) == "transition: wanted [prepared, preparing]→delivered, got ?→?")
        when.transition = nil
        #expect(when.failure(on: event) == nil)
    }
}
