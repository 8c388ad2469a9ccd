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

/// A WhatsApp send carries its key in `biz_opaque_callback_data`, so when Meta accepted the
/// message but its answer was lost, the status webhook still finds the message.
extension DispatchTests {
    @Test func aStatusCarryingTheKeyResolvesASendWhoseAnswerWasLost() async throws {
        try await withFake { fake, port in
            let rules = try receiptRuleSet(port: port)
            let store = try SQLiteStore(path: path)
            let logger = logs.logger()
            let processor = EventProcessor(ruleSet: rules, templates: templates, store: store, logger: logger)
            // Meta accepts the message (the fake records it) and answers after the client gave up.
            fake.answer(
                "/messages",
                .init(
                    status: .ok, body: #"{"messaging_product":"whatsapp","messages":[{"id":"wamid.LOST"}]}"#,
                    delay: .seconds(3)))
            let dispatcher = Dispatcher(
                store: store, ruleSet: rules, channels: Dispatcher.channels(for: rules, logger: logger),
                transport: SharedTransport.loopback(requestTimeout: 1), logger: logger, random: { 0.5 })
            try await receive(store, "cod-fulfillment", "03-out_for_delivery.json", ruleSet: rules)
            try await processor.processPending()
            try await dispatcher.dispatchDue()
            let lost = try #require(try await store.messages(MessageQuery()).first { $0.channel == "whatsapp" })
            #expect(lost.state == .unknown)
            #expect(lost.providerMessageID == nil)
            let sent = try #require(fake.requests.first { $0.path.hasSuffix("/messages") })
            let json = try JSONParser.parse(Array(sent.body.utf8))
            #expect(json["biz_opaque_callback_data"] == .string(lost.idempotencyKey))

            let app = buildApplication(
                configuration: ServerConfiguration(host: "127.0.0.1", port: 0), ruleSet: rules, store: store,
                logger: logger)
            try await app.test(.live) { client in
                let status = try await metaStatus(
                    client, wamid: "wamid.LOST", status: "delivered", key: lost.idempotencyKey)
                #expect(status == .ok)
            }
            // The server closed the store on its way out: the file again, as the next `herald serve`.
            let reopened = try SQLiteStore(path: path)
            let delivered = try #require(try await reopened.messages(MessageQuery()).first { $0.id == lost.id })
            #expect(delivered.state == .delivered)
            #expect(delivered.providerMessageID == "wamid.LOST")
            // Never sent again, however long the dispatcher runs (the courier SMS may be due for a
            // lookup, if its send too outlasted the 1 s timeout on a loaded machine).
            var later = dispatcher
            later.store = reopened
            later.clock = { Date().addingTimeInterval(86_400) }
            try await later.dispatchDue()
            #expect(fake.requests.filter { $0.path.hasSuffix("/messages") }.count == 1)
            #expect(try await reopened.messages(MessageQuery()).first { $0.id == lost.id }?.state == .delivered)
            try await reopened.close()
        }
    }
}
