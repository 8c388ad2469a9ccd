import Foundation
import HTTPTypes
import HeraldCore
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// A customer who replies STOP (or توقف) gets nothing more until START: the reply reaches Herald
/// as Twilio posts it, signed, on the channel's receipts URL, and the next order's message stops
/// short of the fake Twilio.
extension DispatchTests {
    @Test func aCustomerWhoRepliesStopGetsNothingMoreUntilStart() async throws {
        let fixedNow = now
        let publicURL = "https://herald.example.com"
        try await withFake { fake, port in
            let p = try pipeline(port: port, clock: { fixedNow })
            let rules = p.processor.ruleSet
            var configuration = ServerConfiguration(host: "127.0.0.1", port: 0)
            configuration.publicURL = publicURL
            let app = buildApplication(
                configuration: configuration, ruleSet: rules, store: p.store, logger: logs.logger())
            try await app.test(.live) { client in
                /// The customer texts `body` to the channel's number; Twilio posts it to the receipts URL.
                func customerReplies(_ body: String, sid: String) async throws {
                    let fields = [
                        ReceiptField("MessageSid", sid), ReceiptField("AccountSid", "AC0123456789abcdef"),
                        ReceiptField("From", "+212661234567"), ReceiptField("To", "+212500000000"),
                        ReceiptField("Body", body), ReceiptField("NumMedia", "0"),
                    ]
                    let (status, _) = try await client.postSignedTwilioForm(
                        "/receipts/sms", publicURL: publicURL, fields: fields, authToken: "twilio-token-xyz")
                    #expect(status == .ok)
                }
                /// Order `reference` is delivered; returns how many messages reached the fake Twilio.
                func orderDelivered(_ reference: String) async throws -> Int {
                    let request = Fixtures.request(
                        provider: "cod-fulfillment",
                        body: Fixtures.codPayload(reference: reference, from: "out_for_delivery", to: "delivered"),
                        receivedAt: fixedNow)
                    let profile = try #require(rules.provider(named: "cod-fulfillment"))
                    _ = try await p.store.record(
                        IncomingEvent(request: request, profile: profile))
                    try await p.processor.processPending()
                    _ = try await p.dispatcher.dispatchDue()
                    return fake.requests.filter { $0.path.contains("Messages.json") }.count
                }
                func state(_ reference: String) async throws -> OutboxMessage.State? {
                    try await p.store.messages(MessageQuery(orderReference: reference)).first?.state
                }

                #expect(try await orderDelivered("ORD-1") == 1)
                try await customerReplies("STOP", sid: "SM-in-1")
                #expect(try await orderDelivered("ORD-2") == 1)
                #expect(try await state("ORD-2") == .suppressed)
                try await customerReplies("Start", sid: "SM-in-2")
                #expect(try await orderDelivered("ORD-3") == 2)
                #expect(try await state("ORD-3") == .sent)
                try await customerReplies("توقف", sid: "SM-in-3")
                #expect(try await orderDelivered("ORD-4") == 2)
                #expect(try await state("ORD-4") == .suppressed)
                // Twilio redelivers the first STOP after the START below: a duplicate, changes nothing.
                try await customerReplies("START", sid: "SM-in-4")
                try await customerReplies("STOP", sid: "SM-in-1")
                #expect(try await orderDelivered("ORD-5") == 3)
                // A question is kept for the operator and stops nothing.
                try await customerReplies("Quand arrive ma commande ?", sid: "SM-in-5")
                #expect(try await orderDelivered("ORD-6") == 4)
                let replies = try await p.store.replies(sender: "+212661234567", limit: 10)
                #expect(replies.count == 5)
                #expect(replies.first?.body == "Quand arrive ma commande ?")
            }
        }
    }
}
