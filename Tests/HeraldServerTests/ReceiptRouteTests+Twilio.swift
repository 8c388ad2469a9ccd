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

/// The edges of the receipts route: the body limit, Twilio forms that do not decode, and the
/// forms of a URL Twilio may have signed.
extension ReceiptRouteTests {
    func withServer(
        configure: (inout ServerConfiguration) -> Void,
        _ body: @escaping @Sendable (any TestClientProtocol, SQLiteStore) async throws -> Void
    ) async throws {
        let (store, _) = try await Self.store()
        let ruleSet = try RuleSet.parse(yaml: Self.rules, file: "rules.yaml", environment: Environment([:]))
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.publicURL = Self.publicURL
        configure(&configuration)
        let app = buildApplication(
            configuration: configuration, ruleSet: ruleSet, store: store, logger: LogRecorder().logger())
        try await app.test(.live) { client in try await body(client, store) }
    }

    /// A raw form body posted to /receipts/sms with `signature`.
    func post(_ client: any TestClientProtocol, query: String = "", body: String, signature: String) async throws
        -> (HTTPResponse.Status, String)
    {
        try await client.execute(
            uri: "/receipts/sms" + query, method: .post,
            headers: [
                .contentType: "application/x-www-form-urlencoded", HTTPField.Name("X-Twilio-Signature")!: signature,
            ],
            body: ByteBuffer(string: body)
        ) { ($0.status, String(buffer: $0.body)) }
    }

    @Test func aBodyOverTheLimitIs413AndStoresNothing() async throws {
        try await withServer(configure: { $0.maxBodySize = 1024 }) { client, store in
            let fields = [
                ReceiptField("MessageSid", "SM1"), ReceiptField("MessageStatus", "delivered"),
                ReceiptField("Padding", String(repeating: "x", count: 2048)),
            ]
            let (status, _) = try await twilioPost(client, query: "?key=k-sms", fields: fields)
            #expect(status == .contentTooLarge)
            let body = String(repeating: " ", count: 2048)
            let meta = try await metaPost(client, body: #"{"entry":[]}"# + body)
            #expect(meta.0 == .contentTooLarge)
            #expect(try await store.receipts(channel: nil, limit: 10).isEmpty)
            #expect(try await state(store, "k-sms").state == .sent)
        }
    }

    /// Signed over its fields with the bad escape kept as written (what a lenient reader of the
    /// form sees): 200 and kept with its parse error; the same body badly signed: 401.
    @Test func aSignedFormThatDoesNotDecodeIsKeptWithItsParseError() async throws {
        try await withServer { client, store in
            let body = "MessageSid=SM1&MessageStatus=delivered&Body=100%+sure&Bad=%zz"
            let fields = [
                ReceiptField("MessageSid", "SM1"), ReceiptField("MessageStatus", "delivered"),
                ReceiptField("Body", "100% sure"), ReceiptField("Bad", "%zz"),
            ]
            let url = Self.publicURL + "/receipts/sms?key=k-sms"
            let signature = TwilioSignature.compute(url: url, fields: fields, authToken: "tw-token")
            let wrong = TwilioSignature.compute(url: url, fields: fields, authToken: "other")
            #expect(try await post(client, query: "?key=k-sms", body: body, signature: wrong).0 == .unauthorized)
            #expect(try await store.receipts(channel: nil, limit: 10).isEmpty)
            let (status, answer) = try await post(client, query: "?key=k-sms", body: body, signature: signature)
            #expect(status == .ok)
            #expect(answer == #"{"status":"accepted"}"#)
            let kept = try await store.receipts(channel: "sms", limit: 10)
            #expect(kept.map(\.kind) == ["unparsed"])
            #expect(kept.first?.parseError == "a '%' is not followed by two hex digits")
            // Not applied: nothing Herald could read says delivered.
            #expect(try await state(store, "k-sms").state == .sent)
            // Twilio retries it: a duplicate.
            let again = try await post(client, query: "?key=k-sms", body: body, signature: signature)
            #expect(again.1 == #"{"status":"duplicate"}"#)
        }
    }

    /// Twilio signs the URL as configured at Twilio: with or without the scheme's default port,
    /// whichever Herald's public URL says. Another port is another URL.
    @Test(arguments: [
        ("https://herald.example.com", "https://herald.example.com:443", true),
        ("https://herald.example.com:443", "https://herald.example.com", true),
        ("https://herald.example.com", "https://herald.example.com:8443", false),
        ("https://herald.example.com", "http://herald.example.com:80", false),
    ])
    func theDefaultPortMayBeWrittenOrNot(publicURL: String, signedAt: String, accepted: Bool) async throws {
        try await withServer(configure: { $0.publicURL = publicURL }) { client, store in
            let fields = [ReceiptField("MessageSid", "SM1"), ReceiptField("MessageStatus", "delivered")]
            let signature = TwilioSignature.compute(
                url: signedAt + "/receipts/sms?key=k-sms", fields: fields, authToken: "tw-token")
            let (status, _) = try await post(
                client, query: "?key=k-sms", body: FormBody.encode(fields), signature: signature)
            #expect(status == (accepted ? .ok : .unauthorized))
            #expect(try await state(store, "k-sms").state == (accepted ? .delivered : .sent))
        }
    }
}
