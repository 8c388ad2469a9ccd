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

/// The loop closed: a message sent through the fake Twilio asks for receipts at Herald's public
/// URL, and the status callback Twilio would post there marks it delivered.
extension DispatchTests {
    @Test func aTwilioSendAsksForReceiptsAndASignedCallbackMarksItDelivered() async throws {
        let fixedNow = now
        let publicURL = "https://herald.example.com"
        try await withFake { fake, port in
            let rules = try ruleSet(port: port)
            let store = try SQLiteStore(path: path)
            let logger = logs.logger()
            let processor = EventProcessor(
                ruleSet: rules, templates: templates, store: store, logger: logger, clock: { fixedNow })
            let dispatcher = Dispatcher(
                store: store, ruleSet: rules,
                channels: Dispatcher.channels(for: rules, publicURL: publicURL, logger: logger),
                transport: SharedTransport.loopback(requestTimeout: 5), logger: logger, clock: { fixedNow },
                random: { 0.5 })
            try await receive(store, "cod-fulfillment", "05-delivered.json", ruleSet: rules)
            try await processor.processPending()
            #expect(try await dispatcher.dispatchDue() == 1)
            let form = try FormBody.decode(Array(try #require(fake.requests.first).body.utf8))
            let message = try #require(try await store.messages(MessageQuery()).first)
            #expect(message.state == .sent)
            let callback = try #require(form.first { $0.name == "StatusCallback" }?.value)
            #expect(callback == "\(publicURL)/receipts/sms?key=\(message.idempotencyKey)")
            let sid = try #require(message.providerMessageID)

            var configuration = ServerConfiguration(host: "127.0.0.1", port: 0)
            configuration.publicURL = publicURL
            let app = buildApplication(configuration: configuration, ruleSet: rules, store: store, logger: logger)
            try await app.test(.live) { client in
                let fields = [
                    ReceiptField("MessageSid", sid), ReceiptField("MessageStatus", "delivered"),
                    ReceiptField("AccountSid", "AC0123456789abcdef"), ReceiptField("ErrorCode", ""),
                ]
                let (status, _) = try await client.postSignedTwilioForm(
                    String(callback.dropFirst(publicURL.count)), publicURL: publicURL, fields: fields,
                    authToken: "twilio-token-xyz")
                #expect(status == .ok)
            }
            let delivered = try #require(try await SQLiteStore(path: path).messages(MessageQuery()).first)
            #expect(delivered.state == .delivered)
            #expect(delivered.progress.deliveredAt != nil)
        }
    }
}
