import Foundation
import HeraldCore
import HeraldDispatch
import Testing

@Suite("Send pacing")
struct RateLimiterTests {
    let t0 = Date(timeIntervalSince1970: 1_778_414_400)

    @Test func channelRateSpacesSends() {
        let limiter = RateLimiter(limits: ["sms": .init(rate: 4)])
        let slots = (0..<6).map { n in limiter.reserve(channel: "sms", recipient: "+2126000000\(n)", now: t0) }
        #expect(slots.map { $0.timeIntervalSince(t0) } == [0, 0.25, 0.5, 0.75, 1.0, 1.25])
        // Other channels are not limited.
        #expect(limiter.reserve(channel: "gateway", recipient: "+212600000001", now: t0) == t0)
    }

    @Test func whatsappPacesEachRecipient() {
        let limits = RateLimiter.limits(for: .whatsAppCloud(.init(phoneNumberID: "1", token: "t")))
        #expect(limits == .init(rate: nil, recipientInterval: 6))
        let limiter = RateLimiter(limits: ["whatsapp": limits])
        #expect(limiter.reserve(channel: "whatsapp", recipient: "+212661234567", now: t0) == t0)
        #expect(limiter.reserve(channel: "whatsapp", recipient: "+212661234567", now: t0.addingTimeInterval(1)) == t0.addingTimeInterval(6))
        #expect(limiter.reserve(channel: "whatsapp", recipient: "+9613123456", now: t0.addingTimeInterval(1)) == t0.addingTimeInterval(1))
        let twilio = ChannelConfiguration.twilio(
            .init(accountSID: "AC1", authToken: "t", from: "+1", common: .init(rate: 10)))
        #expect(RateLimiter.limits(for: twilio) == .init(rate: 10, recipientInterval: nil))
    }

    /// A retry 5 s after a WhatsApp send waits for its pair slot (6 s) in the queue, and finds it
    /// free when it comes back, instead of pushing itself 6 s further each time.
    @Test func aSlotTooFarAwayIsNotBookedByTheMessageThatWillComeBackForIt() {
        let limiter = RateLimiter(limits: ["whatsapp": .init(recipientInterval: 6)])
        let to = "+212661234567"
        #expect(limiter.reserve(channel: "whatsapp", recipient: to, now: t0, bookingWithin: 1) == t0)
        let slot = limiter.reserve(channel: "whatsapp", recipient: to, now: t0.addingTimeInterval(4), bookingWithin: 1)
        #expect(slot == t0.addingTimeInterval(6))
        #expect(limiter.reserve(channel: "whatsapp", recipient: to, now: slot, bookingWithin: 1) == slot)
    }
}
