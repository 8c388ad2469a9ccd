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

/// WhatsApp says after the send that it cannot reach the customer: the receipt plans the rule's
/// fallback, which goes out by SMS through the fake Twilio once, however often Meta posts it.
extension DispatchTests {
    static let appSecret = "wa-app-secret"

    /// The shipped rules against the fake, without quiet hours, the WhatsApp channel taking
    /// receipts; `fallback: false`
    /// removes the out-for-delivery rule's SMS fallback.
    func receiptRuleSet(port: Int, fallback: Bool = true) throws -> RuleSet {
        var environment = Fixtures.environment.values
        environment.merge([
            "TWILIO_ACCOUNT_SID": "AC0123456789abcdef", "TWILIO_AUTH_TOKEN": "twilio-token-xyz",
            "TWILIO_FROM": "+212500000000", "WA_PHONE_NUMBER_ID": "1055", "WA_TOKEN": "wa-token-abc",
        ]) { $1 }
        var text = try Fixtures.shippedRulesText(fakeProviderPort: port)
            .replacingOccurrences(
                of: #"token: "${WA_TOKEN}","#, with: #"token: "${WA_TOKEN}", app_secret: wa-app-secret,"#)
        // The receipt route plans on the wall clock, and so does the dispatcher here: no quiet
        // hours to defer the fallback at some hours of the day.
        text = text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.contains("quiet_hours:") }.joined(separator: "\n")
        if !fallback {
            text = text.replacingOccurrences(
                of: "template: out_for_delivery, fallback: sms", with: "template: out_for_delivery")
        }
        #expect(text.contains("app_secret: wa-app-secret"))
        return try RuleSet.parse(yaml: text, file: "rules.yaml", environment: Environment(environment))
    }

    /// Meta's status webhook about `wamid`, signed with the channel's app secret.
    func metaStatus(
        _ client: any TestClientProtocol, wamid: String, status: String, key: String, code: Int? = nil
    ) async throws -> HTTPResponse.Status {
        let errors = code.map { #","errors":[{"code":\#($0),"title":"Message undeliverable"}]"# } ?? ""
        let body = """
            {"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
            "messaging_product":"whatsapp","statuses":[{"id":"\(wamid)","status":"\(status)",
            "timestamp":"1778414460","recipient_id":"212661234567","biz_opaque_callback_data":"\(key)"\(errors)}]}}]}]}
            """
        return try await client.execute(
            uri: "/receipts/whatsapp", method: .post,
            headers: [
                .contentType: "application/json",
                HTTPField.Name("X-Hub-Signature-256")!: MetaSignature.compute(
                    body: Array(body.utf8), appSecret: Self.appSecret),
            ],
            body: ByteBuffer(string: body)
        ) { $0.status }
    }

    /// Sends the out-for-delivery event's messages (the courier SMS, the WhatsApp template), then
    /// serves receipts with the dispatcher running; returns the WhatsApp message as sent.
    func sendThenServeReceipts(
        fake: FakeProvider, rules: RuleSet,
        _ body: @escaping @Sendable (any TestClientProtocol, SQLiteStore, OutboxMessage) async throws -> Void
    ) async throws {
        let store = try SQLiteStore(path: path)
        let logger = logs.logger()
        let processor = EventProcessor(ruleSet: rules, templates: templates, store: store, logger: logger)
        let dispatcher = Dispatcher(
            store: store, ruleSet: rules, channels: Dispatcher.channels(for: rules, logger: logger),
            transport: SharedTransport.loopback(requestTimeout: 5), logger: logger, random: { 0.5 })
        try await receive(store, "cod-fulfillment", "03-out_for_delivery.json", ruleSet: rules)
        try await processor.processPending()
        #expect(try await dispatcher.dispatchDue() == 2)
        let whatsapp = try #require(try await store.messages(MessageQuery()).first { $0.channel == "whatsapp" })
        #expect(whatsapp.state == .sent)
        let app = buildApplication(
            configuration: ServerConfiguration(host: "127.0.0.1", port: 0), ruleSet: rules, store: store,
            logger: logger, dispatcher: dispatcher)
        try await app.test(.live) { client in try await body(client, store, whatsapp) }
    }

    /// The SMS requests the fake Twilio got, once at least `count` arrived (within 5 s).
    func smsRequests(_ fake: FakeProvider, atLeast count: Int) async throws -> [FakeProvider.Recorded] {
        for _ in 0..<100 {
            let sms = fake.requests.filter { $0.path.hasSuffix("Messages.json") }
            if sms.count >= count { return sms }
            try await Task.sleep(for: .milliseconds(50))
        }
        return fake.requests.filter { $0.path.hasSuffix("Messages.json") }
    }

    @Test func aWhatsAppNumberThatCannotBeReachedGetsTheSMSFallbackOnce() async throws {
        try await withFake { fake, port in
            let rules = try receiptRuleSet(port: port)
            try await sendThenServeReceipts(fake: fake, rules: rules) { client, store, whatsapp in
                let wamid = try #require(whatsapp.providerMessageID)
                #expect(try await smsRequests(fake, atLeast: 1).count == 1)  // the courier SMS
                let failed = try await metaStatus(
                    client, wamid: wamid, status: "failed", key: whatsapp.idempotencyKey, code: 131026)
                #expect(failed == .ok)
                // The dispatcher, woken, sends the fallback by SMS: the WhatsApp message's text.
                let sms = try await smsRequests(fake, atLeast: 2)
                #expect(sms.count == 2)
                let form = try FormBody.decode(Array(try #require(sms.last).body.utf8))
                #expect(form.first { $0.name == "Body" }?.value == whatsapp.text)
                #expect(form.first { $0.name == "To" }?.value == whatsapp.recipient)
                // Meta posts the same status again: a duplicate, nothing more goes out.
                #expect(
                    try await metaStatus(
                        client, wamid: wamid, status: "failed", key: whatsapp.idempotencyKey, code: 131026) == .ok)
                try await Task.sleep(for: .milliseconds(600))  // over two polls of the dispatcher
                #expect(fake.requests.filter { $0.path.hasSuffix("Messages.json") }.count == 2)
                let messages = try await store.messages(MessageQuery())
                let original = try #require(messages.first { $0.id == whatsapp.id })
                #expect(original.state == .undelivered)
                #expect(original.progress.errorCode == "131026")
                let fallback = try #require(
                    messages.first {
                        $0.idempotencyKey == IdempotencyKey.fallback(of: whatsapp.idempotencyKey, channel: "sms")
                    })
                #expect(fallback.channel == "sms")
                #expect(fallback.state == .sent)
                #expect(messages.count == 3)
            }
        }
    }

    /// Without a rule fallback, or with a code that does not mean the customer is out of reach,
    /// the message is only marked undelivered.
    @Test(arguments: [(true, 131_000), (false, 131_026)])
    func otherFailuresOnlyMarkTheMessageUndelivered(fallback: Bool, code: Int) async throws {
        try await withFake { fake, port in
            let rules = try receiptRuleSet(port: port, fallback: fallback)
            try await sendThenServeReceipts(fake: fake, rules: rules) { client, store, whatsapp in
                let wamid = try #require(whatsapp.providerMessageID)
                let status = try await metaStatus(
                    client, wamid: wamid, status: "failed", key: whatsapp.idempotencyKey, code: code)
                #expect(status == .ok)
                try await Task.sleep(for: .milliseconds(600))
                #expect(fake.requests.filter { $0.path.hasSuffix("Messages.json") }.count == 1)
                let messages = try await store.messages(MessageQuery())
                #expect(messages.count == 2)
                let original = try #require(messages.first { $0.id == whatsapp.id })
                #expect(original.state == .undelivered)
                #expect(original.progress.errorCode == String(code))
            }
        }
    }
}
