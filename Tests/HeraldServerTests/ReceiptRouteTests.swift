import Foundation
import HTTPTypes
import HeraldCore
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// `POST`/`GET /receipts/{channel}` over real HTTP on loopback, against a real SQLite file.
@Suite("Receipts routes")
struct ReceiptRouteTests {
    static let publicURL = "https://herald.example.com"
    static let rules = """
        version: 1
        channels:
          sms: { type: twilio, account_sid: AC1, auth_token: tw-token, from: "+212500000000" }
          wa: { type: whatsapp-cloud, phone_number_id: "1", token: t, app_secret: app-s, verify_token: vt-123 }
          gw: { type: http, url: "https://gateway.example.com/send" }

        """

    /// A store holding one message, sent as `SM1` (key `k-sms`), and one whose answer was lost (`k-wa`).
    static func store() async throws -> (SQLiteStore, String) {
        let path = Fixtures.temporaryDatabasePath()
        let store = try SQLiteStore(path: path)
        let eventID = try await Fixtures.recordedEventID(store, ruleSet: Fixtures.shippedRuleSet())
        let messages = ["k-sms": "sms", "k-wa": "wa"].map { key, channel in
            OutboxMessage(
                idempotencyKey: key, eventID: eventID, provider: "cod-fulfillment", orderReference: "ORD-1",
                rule: "delivered", channel: channel, recipient: "+212661234567", locale: "fr", text: "Bonjour",
                encoding: "GSM-7", segments: 1, state: .pending, nextAttemptAt: Date(), lastError: nil,
                createdAt: Date())
        }
        try await store.completeProcessing(eventID: eventID, messages: messages, at: Date())
        for claim in try await store.claimDue(now: Date().addingTimeInterval(1), limit: 10, lease: 60) {
            let sms = claim.message.idempotencyKey == "k-sms"
            try await store.record(
                sms
                    ? DeliveryUpdate(state: .sent, providerMessageID: "SM1")
                    : DeliveryUpdate(state: .unknown, lastError: "unknown outcome: timeout"),
                messageID: claim.message.id, at: Date())
        }
        return (store, path)
    }

    func withServer(
        publicURL: String? = Self.publicURL,
        _ body: @escaping @Sendable (any TestClientProtocol, SQLiteStore) async throws -> Void
    ) async throws {
        let (store, _) = try await Self.store()
        let ruleSet = try RuleSet.parse(yaml: Self.rules, file: "rules.yaml", environment: Environment([:]))
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.publicURL = publicURL
        let app = buildApplication(
            configuration: configuration, ruleSet: ruleSet, store: store, logger: LogRecorder().logger())
        try await app.test(.live) { client in try await body(client, store) }
    }

    func status(_ client: any TestClientProtocol, _ uri: String, _ method: HTTPRequest.Method) async throws
        -> HTTPResponse.Status
    {
        try await client.execute(uri: uri, method: method) { $0.status }
    }

    func state(_ store: SQLiteStore, _ key: String) async throws -> OutboxMessage {
        try #require(try await store.messages(MessageQuery()).first { $0.idempotencyKey == key })
    }

    func twilioPost(
        _ client: any TestClientProtocol, query: String, fields: [ReceiptField], token: String = "tw-token"
    ) async throws -> (HTTPResponse.Status, String) {
        try await client.postSignedTwilioForm(
            "/receipts/sms" + query, publicURL: Self.publicURL, fields: fields, authToken: token)
    }

    func metaPost(_ client: any TestClientProtocol, body: String, secret: String = "app-s") async throws
        -> (HTTPResponse.Status, String)
    {
        try await client.execute(
            uri: "/receipts/wa", method: .post,
            headers: [
                .contentType: "application/json",
                HTTPField.Name("X-Hub-Signature-256")!: MetaSignature.compute(
                    body: Array(body.utf8), appSecret: secret),
            ],
            body: ByteBuffer(string: body)
        ) { ($0.status, String(buffer: $0.body)) }
    }

    @Test func aSignedTwilioStatusCallbackMarksTheMessageDeliveredOnce() async throws {
        try await withServer { client, store in
            let fields = [
                ReceiptField("MessageSid", "SM1"), ReceiptField("MessageStatus", "delivered"),
                ReceiptField("AccountSid", "AC1"), ReceiptField("To", "+212661234567"),
            ]
            let first = try await twilioPost(client, query: "?key=k-sms", fields: fields)
            #expect(first.0 == .ok)
            #expect(first.1 == #"{"status":"accepted"}"#)
            #expect(try await state(store, "k-sms").state == .delivered)
            let again = try await twilioPost(client, query: "?key=k-sms", fields: fields)
            #expect(again.1 == #"{"status":"duplicate"}"#)
            // A late `sent` does not move it back.
            let late = [ReceiptField("MessageSid", "SM1"), ReceiptField("MessageStatus", "sent")]
            #expect(try await twilioPost(client, query: "?key=k-sms", fields: late).0 == .ok)
            #expect(try await state(store, "k-sms").state == .delivered)
            #expect(try await store.receipts(channel: "sms", limit: 10).count == 2)
        }
    }

    /// An inbound reply in Arabic, signed over its decoded form values, is kept (acting on STOP is
    /// not built yet: it is only stored).
    @Test func aSignedInboundReplyIsKept() async throws {
        try await withServer { client, store in
            let fields = [
                ReceiptField("MessageSid", "SM77"), ReceiptField("SmsStatus", "received"),
                ReceiptField("From", "+212661234567"), ReceiptField("To", "+212500000000"),
                ReceiptField("Body", " توقف "),
            ]
            let (status, _) = try await twilioPost(client, query: "", fields: fields)
            #expect(status == .ok)
            let kept = try await store.receipts(channel: "sms", limit: 10)
            #expect(kept.map(\.kind) == ["reply"])
            #expect(kept.first?.body == " توقف ")
            #expect(kept.first?.sender == "+212661234567")
        }
    }

    @Test func badOrMissingSignaturesAre401AndStoreNothing() async throws {
        try await withServer { client, store in
            let fields = [ReceiptField("MessageSid", "SM1"), ReceiptField("MessageStatus", "delivered")]
            #expect(try await twilioPost(client, query: "", fields: fields, token: "wrong").0 == .unauthorized)
            // Signed over another query than the one called.
            let url = Self.publicURL + "/receipts/sms?key=other"
            let signature = TwilioSignature.compute(url: url, fields: fields, authToken: "tw-token")
            let moved = try await client.execute(
                uri: "/receipts/sms?key=k-sms", method: .post,
                headers: [HTTPField.Name("X-Twilio-Signature")!: signature],
                body: ByteBuffer(string: FormBody.encode(fields))
            ) { $0.status }
            #expect(moved == .unauthorized)
            let unsigned = try await client.execute(
                uri: "/receipts/wa", method: .post, body: ByteBuffer(string: #"{"entry":[]}"#)
            ) { $0.status }
            #expect(unsigned == .unauthorized)
            #expect(try await metaPost(client, body: #"{"entry":[]}"#, secret: "wrong").0 == .unauthorized)
            #expect(try await store.receipts(channel: nil, limit: 10).isEmpty)
            #expect(try await state(store, "k-sms").state == .sent)
        }
    }

    @Test func unknownChannelsAre404() async throws {
        try await withServer { client, _ in
            let unknown = try await status(client, "/receipts/nope", .post)
            let gateway = try await status(client, "/receipts/gw", .post)
            let handshake = try await status(client, "/receipts/nope", .get)
            #expect([unknown, gateway, handshake] == [.notFound, .notFound, .notFound])
        }
    }

    @Test func twilioReceiptsWithoutAPublicURLAre503() async throws {
        try await withServer(publicURL: nil) { client, store in
            let fields = [ReceiptField("MessageSid", "SM1"), ReceiptField("MessageStatus", "delivered")]
            let (status, _) = try await twilioPost(client, query: "", fields: fields)
            #expect(status == .serviceUnavailable)
            #expect(try await store.receipts(channel: nil, limit: 10).isEmpty)
        }
    }

    /// A WhatsApp send whose answer was lost carried its key in `biz_opaque_callback_data`: the
    /// `read` status resolves it; a body that is signed but not JSON is kept and answered 200.
    @Test func metaStatusesResolveByKeyAndUnreadableBodiesAreKept() async throws {
        try await withServer { client, store in
            let body = """
                {"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{
                "statuses":[{"id":"wamid.W1","status":"read","timestamp":"1764400000","recipient_id":"212661234567",
                "biz_opaque_callback_data":"k-wa"}]}}]}]}
                """
            let (status, _) = try await metaPost(client, body: body)
            #expect(status == .ok)
            let resolved = try await state(store, "k-wa")
            #expect(resolved.state == .read)
            #expect(resolved.providerMessageID == "wamid.W1")
            #expect(resolved.progress.readAt == Date(timeIntervalSince1970: 1_764_400_000))
            #expect(try await metaPost(client, body: "{not json").0 == .ok)
            let kept = try await store.receipts(channel: "wa", limit: 10)
            #expect(kept.map(\.kind) == ["unparsed", "status"])
            #expect(kept.first?.parseError?.hasPrefix("not JSON") == true)
        }
    }

    @Test func metasSubscribeHandshake() async throws {
        try await withServer { client, _ in
            let good = try await client.execute(
                uri: "/receipts/wa?hub.mode=subscribe&hub.verify_token=vt-123&hub.challenge=1158201444", method: .get
            ) { ($0.status, String(buffer: $0.body)) }
            #expect(good.0 == .ok)
            #expect(good.1 == "1158201444")
            let wrong = try await client.execute(
                uri: "/receipts/wa?hub.mode=subscribe&hub.verify_token=vt-124&hub.challenge=1158201444", method: .get
            ) { $0.status }
            #expect(wrong == .forbidden)
            let twilioGet = try await status(client, "/receipts/sms", .get)
            #expect(twilioGet == .methodNotAllowed)
        }
    }
}
