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

/// `GET /metrics` after receipts: counted by channel and status, and the send → delivered time.
/// The channels have names no other test uses, as the registry is shared by the whole process.
@Suite("Receipt metrics")
struct ReceiptMetricsTests {
    static let rules = """
        version: 1
        channels:
          metrics-sms: { type: twilio, account_sid: AC1, auth_token: tw-token, from: "+212500000000" }
          metrics-wa: { type: whatsapp-cloud, phone_number_id: "1", token: t, app_secret: app-s }

        """

    @Test func receiptsAreCountedByChannelAndStatusAndDeliveryTimed() async throws {
        _ = MetricsTests.bootstrapped
        let store = try SQLiteStore(path: Fixtures.temporaryDatabasePath())
        let eventID = try await Fixtures.recordedEventID(store, ruleSet: Fixtures.shippedRuleSet())
        let message = OutboxMessage(
            idempotencyKey: "k-m", eventID: eventID, provider: "cod-fulfillment", orderReference: "ORD-1",
            rule: "delivered", channel: "metrics-sms", recipient: "+212661234567", locale: "fr", text: "Bonjour",
            encoding: "GSM-7", segments: 1, state: .pending, nextAttemptAt: Date(), lastError: nil, createdAt: Date())
        try await store.completeProcessing(eventID: eventID, messages: [message], at: Date())
        let claimed = try #require(try await store.claimDue(now: Date() + 1, limit: 1, lease: 60).first)
        // Sent 90 s before the delivery receipt arrives (the test takes a few seconds at most).
        try await store.record(
            DeliveryUpdate(state: .sent, providerMessageID: "SM-M1"), messageID: claimed.message.id,
            at: Date().addingTimeInterval(-90))
        let ruleSet = try RuleSet.parse(yaml: Self.rules, file: "rules.yaml", environment: Environment([:]))
        var configuration = ServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.publicURL = "https://herald.example.com"
        let app = buildApplication(
            configuration: configuration, ruleSet: ruleSet, store: store, logger: LogRecorder().logger())
        try await app.test(.live) { client in
            func twilio(_ fields: [ReceiptField]) async throws {
                let (status, _) = try await client.postSignedTwilioForm(
                    "/receipts/metrics-sms", publicURL: "https://herald.example.com", fields: fields,
                    authToken: "tw-token")
                #expect(status == .ok)
            }
            let delivered = [ReceiptField("MessageSid", "SM-M1"), ReceiptField("MessageStatus", "delivered")]
            try await twilio(delivered)
            try await twilio(delivered)  // Twilio's retry: not counted again
            try await twilio([ReceiptField("MessageSid", "SM-M1"), ReceiptField("MessageStatus", "sent")])
            try await twilio([ReceiptField("MessageSid", "SM-M1"), ReceiptField("MessageStatus", "canceled")])
            try await twilio([ReceiptField("MessageSid", "SM-R1"), ReceiptField("From", "+212661234567")])
            let broken = "{not json"
            let status = try await client.execute(
                uri: "/receipts/metrics-wa", method: .post,
                headers: [
                    HTTPField.Name("X-Hub-Signature-256")!: MetaSignature.compute(
                        body: Array(broken.utf8), appSecret: "app-s")
                ],
                body: ByteBuffer(string: broken)
            ) { $0.status }
            #expect(status == .ok)

            let text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            let lines = Set(text.split(separator: "\n").map(String.init))
            for expected in [
                #"herald_receipts_total{channel="metrics-sms",status="delivered"} 1"#,
                #"herald_receipts_total{channel="metrics-sms",status="sent"} 1"#,
                #"herald_receipts_total{channel="metrics-sms",status="unknown"} 1"#,
                #"herald_receipts_total{channel="metrics-sms",status="reply"} 1"#,
                #"herald_receipts_total{channel="metrics-wa",status="unparsed"} 1"#,
                #"herald_send_to_delivered_seconds_count{channel="metrics-sms"} 1"#,
                // 90 s and a little: over a minute, within two.
                #"herald_send_to_delivered_seconds_bucket{channel="metrics-sms",le="60.0"} 0"#,
                #"herald_send_to_delivered_seconds_bucket{channel="metrics-sms",le="120.0"} 1"#,
            ] {
                #expect(lines.contains(expected), "\(expected) in:\n\(text)")
            }
            #expect(text.contains("# TYPE herald_send_to_delivered_seconds histogram"))
            #expect(text.contains(#"herald_send_to_delivered_seconds_bucket{channel="metrics-sms",le="86400.0"} 1"#))
        }
    }
}
