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

/// An application over a real SQLite file, with the shipped rules.yaml and test secrets.
struct Harness {
    let path = Fixtures.temporaryDatabasePath()
    let store: SQLiteStore
    let ruleSet: RuleSet
    let logs = LogRecorder()
    var configuration = ServerConfiguration(host: "127.0.0.1", port: 0)

    init(ruleSet: RuleSet? = nil) throws {
        self.store = try SQLiteStore(path: path)
        self.ruleSet = try ruleSet ?? Fixtures.shippedRuleSet()
    }

    /// What is on disk, read through a fresh connection after the application (and its store) stopped.
    func storedEvents(_ query: EventQuery = EventQuery(limit: 1000)) async throws -> [StoredEvent] {
        let reopened = try SQLiteStore(path: path)
        let events = try await reopened.events(query)
        try await reopened.close()
        return events
    }

    func app() -> some ApplicationProtocol {
        buildApplication(configuration: configuration, ruleSet: ruleSet, store: store, logger: logs.logger())
    }
}

func fields(_ headers: [HeaderField]) -> HTTPFields {
    HTTPFields(headers.map { HTTPField(name: HTTPField.Name($0.name)!, value: $0.value) })
}

extension TestClientProtocol {
    func post(_ path: String, body: [UInt8], headers: [HeaderField]) async throws -> (HTTPResponse.Status, String) {
        try await execute(uri: path, method: .post, headers: fields(headers), body: ByteBuffer(bytes: body)) { response in
            (response.status, String(buffer: response.body))
        }
    }
}

@Suite("POST /webhooks/{provider}")
struct IntakeTests {
    @Test(
        "each seed webhook, signed as its provider signs, is stored before the 200",
        arguments: [
            ("cod-fulfillment", "delivered.json"), ("wakilni", "2-order-confirmed.json"), ("armada", "dispatched.json"),
            ("elebne", "1-order-new.json"), ("storefront", "order-paid.json"),
        ])
    func acceptsSeedPayloads(provider: String, file: String) async throws {
        let harness = try Harness()
        let body = Fixtures.sample(provider, file)
        try await harness.app().test(.router) { client in
            let (status, answer) = try await client.post(
                "/webhooks/\(provider)", body: body, headers: Fixtures.signedHeaders(provider: provider, body: body))
            #expect(status == .ok)
            #expect(answer == #"{"status":"accepted"}"#)
        }
        let stored = try await harness.storedEvents()
        #expect(stored.count == 1)
        #expect(stored.first?.provider == provider)
        #expect(stored.first?.body == body)
        #expect(stored.first?.parseError == nil)
    }

    @Test func sixRedeliveriesAnswerDuplicateAndStoreOne() async throws {
        let harness = try Harness()
        let body = Fixtures.sample("wakilni", "2-order-confirmed.json")
        try await harness.app().test(.router) { client in
            var answers: [String] = []
            for attempt in 1...6 {
                // Wakilni sends a new delivery id and attempt number with each redelivery.
                var headers = Fixtures.signedHeaders(provider: "wakilni", body: body, deliveryID: "dlv-\(attempt)")
                headers.append(HeaderField(name: "x-attempt-number", value: "\(attempt)"))
                let (status, answer) = try await client.post("/webhooks/wakilni", body: body, headers: headers)
                #expect(status == .ok)
                answers.append(answer)
            }
            #expect(answers == [#"{"status":"accepted"}"#] + Array(repeating: #"{"status":"duplicate"}"#, count: 5))
        }
        let stored = try await harness.storedEvents()
        #expect(stored.count == 1)
        #expect(stored.first?.deliveries == 6)
        #expect(stored.first?.deliveryID == "dlv-1")
    }

    @Test func badSignaturesAre401WithAReasonAndStoreNothing() async throws {
        let harness = try Harness()
        let body = Fixtures.sample("cod-fulfillment", "delivered.json")
        var tampered = body
        tampered[40] ^= 0x20
        let good = Fixtures.signedHeaders(provider: "cod-fulfillment", body: body)
        let cases: [([UInt8], [HeaderField], String)] = [
            (tampered, good, "signature does not match the body"),
            (body, [HeaderField(name: "X-Webhook-Signature", value: Fixtures.hmacHex(body, secret: "wrong"))], "signature does not match the body"),
            (body, [HeaderField(name: "X-Webhook-Signature", value: Fixtures.hmacBase64(body))], "X-Webhook-Signature is not a hex HMAC-SHA256"),
            (body, [], "missing X-Webhook-Signature header"),
        ]
        try await harness.app().test(.router) { client in
            for (payload, headers, reason) in cases {
                let (status, answer) = try await client.post("/webhooks/cod-fulfillment", body: payload, headers: headers)
                #expect(status == .unauthorized)
                #expect(answer == #"{"status":"rejected","reason":"\#(reason)"}"#)
            }
            let armada = Fixtures.sample("armada", "dispatched.json")
            let (status, answer) = try await client.post(
                "/webhooks/armada", body: armada, headers: [HeaderField(name: "x-armada-app-id", value: "nope")])
            #expect(status == .unauthorized)
            #expect(answer == #"{"status":"rejected","reason":"wrong x-armada-app-id"}"#)
        }
        #expect(try await harness.storedEvents().isEmpty)
        #expect(harness.logs.text.contains("webhook rejected"))
        #expect(!harness.logs.text.contains(Fixtures.secret))
        #expect(!harness.logs.text.contains(Fixtures.armadaAppID))
    }

    @Test func standardWebhooksReplayOutsideToleranceIs401() async throws {
        let yaml = Fixtures.standardWebhooksRules
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let ruleSet = try RuleSet.parse(yaml: yaml, file: "rules.yaml", environment: Environment(["SW_SECRET": secret]))
        let harness = try Harness(ruleSet: ruleSet)
        let body = Array(#"{"id":"A1","status":"paid"}"#.utf8)
        @Sendable func headers(at timestamp: Int) -> [HeaderField] {
            [
                HeaderField(name: "webhook-id", value: "msg_1"),
                HeaderField(name: "webhook-timestamp", value: "\(timestamp)"),
                HeaderField(name: "webhook-signature", value: StandardWebhooks.sign(id: "msg_1", timestamp: timestamp, body: body, secret: secret)!),
            ]
        }
        let now = Int(Date().timeIntervalSince1970)
        try await harness.app().test(.router) { client in
            let (old, reason) = try await client.post("/webhooks/sw", body: body, headers: headers(at: now - 3600))
            #expect(old == .unauthorized)
            #expect(reason == #"{"status":"rejected","reason":"webhook-timestamp outside the 300 s tolerance"}"#)
            let (fresh, _) = try await client.post("/webhooks/sw", body: body, headers: headers(at: now))
            #expect(fresh == .ok)
        }
        #expect(try await harness.storedEvents().count == 1)
    }

    /// A sender built on Svix (`svix-id`, `svix-timestamp`, `svix-signature`) with an unpadded
    /// secret is accepted once, and its redelivery is a duplicate (dedupe on `header:webhook-id`).
    @Test func svixHeadersAndAnUnpaddedSecretAreAccepted() async throws {
        let yaml = Fixtures.standardWebhooksRules
        let padded = "whsec_" + Data((0..<31).map { UInt8($0) }).base64EncodedString()
        let unpadded = padded.replacingOccurrences(of: "=", with: "")
        let environment = Environment(["SW_SECRET": unpadded])
        let ruleSet = try RuleSet.parse(yaml: yaml, file: "rules.yaml", environment: environment)
        let harness = try Harness(ruleSet: ruleSet)
        let body = Array(#"{"id":"A1","status":"paid"}"#.utf8)
        let now = Int(Date().timeIntervalSince1970)
        let signature = try #require(StandardWebhooks.sign(id: "msg_1", timestamp: now, body: body, secret: padded))
        let headers = [
            HeaderField(name: "svix-id", value: "msg_1"),
            HeaderField(name: "svix-timestamp", value: "\(now)"),
            HeaderField(name: "svix-signature", value: signature),
        ]
        try await harness.app().test(.router) { client in
            let (first, answer) = try await client.post("/webhooks/sw", body: body, headers: headers)
            #expect(first == .ok)
            #expect(answer == #"{"status":"accepted"}"#)
            let (again, duplicate) = try await client.post("/webhooks/sw", body: body, headers: headers)
            #expect(again == .ok)
            #expect(duplicate == #"{"status":"duplicate"}"#)
        }
        #expect(try await harness.storedEvents().count == 1)
    }

    @Test func unknownProviderIs404() async throws {
        let harness = try Harness()
        let body = Fixtures.sample("cod-fulfillment", "delivered.json")
        try await harness.app().test(.router) { client in
            for path in ["/webhooks/shopify", "/webhooks/..%2F..%2Fetc%2Fpasswd", "/webhooks/cod-fulfillment%00"] {
                let (status, answer) = try await client.post(path, body: body, headers: [])
                #expect(status == .notFound)
                #expect(answer == #"{"status":"error","reason":"unknown provider"}"#)
            }
        }
    }

    @Test(arguments: [HTTPRequest.Method.get, .put, .delete, .patch, .options])
    func otherMethodsOnAWebhookRouteAre405WithAllowPost(method: HTTPRequest.Method) async throws {
        let harness = try Harness()
        try await harness.app().test(.router) { client in
            for path in ["/webhooks/cod-fulfillment", "/webhooks/armada/some-token"] {
                try await client.execute(uri: path, method: method) { response in
                    #expect(response.status == .methodNotAllowed)
                    #expect(response.headers[.allow] == "POST")
                    let answer = String(buffer: response.body)
                    #expect(answer == #"{"status":"error","reason":"only POST is accepted here"}"#)
                }
            }
        }
        #expect(try await harness.storedEvents().isEmpty)
    }

    @Test func bodyOverTheLimitIs413() async throws {
        let harness = try Harness()
        let body = [UInt8](repeating: 0x20, count: (1 << 20) + 1)
        try await harness.app().test(.router) { client in
            let (status, answer) = try await client.post(
                "/webhooks/cod-fulfillment", body: body, headers: Fixtures.signedHeaders(provider: "cod-fulfillment", body: body))
            #expect(status == .contentTooLarge)
            #expect(answer == #"{"status":"error","reason":"body larger than 1048576 bytes"}"#)
        }
        #expect(try await harness.storedEvents().isEmpty)
    }

    @Test func verifiedButUnusableBodiesAreStoredAnd200() async throws {
        let harness = try Harness()
        let truncated = Array(Fixtures.sample("storefront", "order-paid.json").prefix(100))
        let invalidUTF8: [UInt8] = Array(#"{"id":"1","status":"paid","customer":{"name":"S"#.utf8) + [0xFF] + Array(#""}}"#.utf8)
        let notJSON = Array("status=paid&id=7".utf8)
        try await harness.app().test(.router) { client in
            for body in [truncated, invalidUTF8, notJSON] {
                let (status, answer) = try await client.post(
                    "/webhooks/storefront", body: body, headers: Fixtures.signedHeaders(provider: "storefront", body: body))
                #expect(status == .ok)
                #expect(answer == #"{"status":"accepted"}"#)
            }
        }
        let failed = try await harness.storedEvents(EventQuery(failedOnly: true))
        #expect(failed.map(\.body) == [notJSON, invalidUTF8, truncated])
        #expect(failed.allSatisfy { $0.parseError?.hasPrefix("invalid JSON") == true })
    }

    @Test func unsetSecretAnswers503AndStoresNothing() async throws {
        var environment = Fixtures.environment
        environment.values["ELEBNE_WEBHOOK_SECRET"] = nil
        let harness = try Harness(ruleSet: try Fixtures.shippedRuleSet(environment: environment))
        let body = Fixtures.sample("elebne", "1-order-new.json")
        try await harness.app().test(.router) { client in
            let (status, answer) = try await client.post(
                "/webhooks/elebne", body: body, headers: Fixtures.signedHeaders(provider: "elebne", body: body))
            #expect(status == .serviceUnavailable)
            #expect(answer == #"{"status":"unavailable","reason":"provider not configured"}"#)
        }
        #expect(try await harness.storedEvents().isEmpty)
    }

    @Test func storeUnavailableAnswers503SoTheSenderRetries() async throws {
        let harness = try Harness()
        let body = Fixtures.sample("cod-fulfillment", "delivered.json")
        try await harness.app().test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
            }
            try await harness.store.close()
            let (status, answer) = try await client.post(
                "/webhooks/cod-fulfillment", body: body, headers: Fixtures.signedHeaders(provider: "cod-fulfillment", body: body))
            #expect(status == .serviceUnavailable)
            #expect(answer == #"{"status":"unavailable","reason":"store unavailable"}"#)
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
            }
        }
    }

    @Test func logsNeverCarrySecretsOrPhoneNumbers() async throws {
        let harness = try Harness()
        try await harness.app().test(.router) { client in
            for (provider, file) in [("cod-fulfillment", "delivered.json"), ("elebne", "1-order-new.json"), ("armada", "dispatched.json")] {
                let body = Fixtures.sample(provider, file)
                _ = try await client.post("/webhooks/\(provider)", body: body, headers: Fixtures.signedHeaders(provider: provider, body: body))
            }
        }
        let logs = harness.logs.text
        #expect(logs.contains("webhook accepted"))
        for secret in [Fixtures.secret, Fixtures.armadaAppID, Fixtures.storefrontKey] { #expect(!logs.contains(secret)) }
        for phone in ["+212661234567", "212661234567", "+22242345678", "212680980068"] { #expect(!logs.contains(phone)) }
    }
}

@Suite("Intake over a real socket")
struct LiveIntakeTests {
    @Test func concurrentPostsAreAllStored() async throws {
        let harness = try Harness()
        let count = 64
        try await harness.app().test(.live) { client in
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for n in 0..<count {
                    group.addTask {
                        let body = Fixtures.codPayload(reference: "ORD-L\(n)", from: "prepared", to: "out_for_delivery")
                        return try await client.post(
                            "/webhooks/cod-fulfillment", body: body,
                            headers: Fixtures.signedHeaders(provider: "cod-fulfillment", body: body)
                        ).0
                    }
                }
                for try await status in group { #expect(status == .ok) }
            }
        }
        let stored = try await harness.storedEvents()
        #expect(Set(stored.compactMap(\.orderReference)).count == count)
    }

    @Test func allowListSeesThePeerAddress() async throws {
        let yaml = """
            version: 1
            providers:
              inside: { preset: armada, app_id: "${ARMADA_APP_ID}", allow_ips: ["127.0.0.0/8", "::1"] }
              outside: { preset: armada, app_id: "${ARMADA_APP_ID}", allow_ips: ["203.0.113.0/24"] }
            """
        let harness = try Harness(ruleSet: try RuleSet.parse(yaml: yaml, file: "rules.yaml", environment: Fixtures.environment))
        let body = Fixtures.sample("armada", "dispatched.json")
        let headers = Fixtures.signedHeaders(provider: "armada", body: body)
        try await harness.app().test(.live) { client in
            let (inside, _) = try await client.post("/webhooks/inside", body: body, headers: headers)
            #expect(inside == .ok)
            let (outside, answer) = try await client.post("/webhooks/outside", body: body, headers: headers)
            #expect(outside == .unauthorized)
            #expect(answer == #"{"status":"rejected","reason":"source address not allowed"}"#)
        }
    }

    @Test func allowListSeesTheForwardedClientOnlyFromATrustedProxy() async throws {
        let yaml = """
            version: 1
            providers:
              partner: { preset: armada, app_id: "${ARMADA_APP_ID}", allow_ips: ["203.0.113.0/24"] }
            """
        let ruleSet = try RuleSet.parse(yaml: yaml, file: "rules.yaml", environment: Fixtures.environment)
        let body = Fixtures.sample("armada", "dispatched.json")
        let signed = Fixtures.signedHeaders(provider: "armada", body: body)
        @Sendable func forwarded(_ chain: String) -> [HeaderField] {
            signed + [HeaderField(name: "X-Forwarded-For", value: chain)]
        }

        // No trusted proxy: the peer (127.0.0.1) is the client, whatever it writes in X-Forwarded-For.
        let direct = try Harness(ruleSet: ruleSet)
        try await direct.app().test(.live) { client in
            let (status, answer) = try await client.post(
                "/webhooks/partner", body: body, headers: forwarded("203.0.113.9"))
            #expect(status == .unauthorized)
            #expect(answer == #"{"status":"rejected","reason":"source address not allowed"}"#)
        }
        #expect(direct.logs.text.contains("herald.remote=127.0.0.1"))
        #expect(try await direct.storedEvents().isEmpty)

        // Behind a trusted proxy: the client it names is checked, and the proxy's own address no longer counts.
        var proxied = try Harness(ruleSet: ruleSet)
        proxied.configuration.trustedProxies = try TrustedProxies(parsing: ["127.0.0.1/32", "::1"])
        try await proxied.app().test(.live) { client in
            let (refused, _) = try await client.post(
                "/webhooks/partner", body: body, headers: forwarded("198.51.100.7"))
            #expect(refused == .unauthorized)
            let (accepted, _) = try await client.post(
                "/webhooks/partner", body: body, headers: forwarded("198.51.100.7, 203.0.113.9"))
            #expect(accepted == .ok)
        }
        #expect(proxied.logs.text.contains("webhook rejected"))
        #expect(proxied.logs.text.contains("herald.remote=198.51.100.7"))
        #expect(proxied.logs.text.contains("herald.remote=203.0.113.9"))
        #expect(try await proxied.storedEvents().map(\.remoteAddress) == ["203.0.113.9"])
    }
}

@Suite("GET /metrics")
struct MetricsTests {
    /// swift-metrics can be bootstrapped once per process.
    static let bootstrapped: Bool = {
        HeraldMetrics.bootstrap()
        return true
    }()

    @Test func prometheusTextWithCountersAndQueueDepths() async throws {
        _ = Self.bootstrapped
        let harness = try Harness()
        let body = Fixtures.sample("cod-fulfillment", "delivered.json")
        try await harness.app().test(.router) { client in
            _ = try await client.post("/webhooks/cod-fulfillment", body: body, headers: Fixtures.signedHeaders(provider: "cod-fulfillment", body: body))
            _ = try await client.post("/webhooks/cod-fulfillment", body: body, headers: [])
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4")
                let text = String(buffer: response.body)
                #expect(text.contains("# TYPE herald_webhooks_total counter"))
                #expect(text.contains(#"herald_webhooks_total{provider="cod-fulfillment",status="200"}"#))
                #expect(text.contains(#"herald_webhooks_total{provider="cod-fulfillment",status="401"}"#))
                #expect(text.contains(#"herald_outbox_messages{state="pending"} 0"#))
                #expect(text.contains("herald_events_waiting 1"))
            }
        }
    }

    /// Planned messages are counted by channel and the state they start in, as the README says.
    @Test func plannedMessagesByChannelAndState() async throws {
        _ = Self.bootstrapped
        let harness = try Harness()
        let body = Fixtures.sample("cod-fulfillment", "delivered.json")
        let templates = try TemplateStore.load(path: Fixtures.root.appendingPathComponent("templates").path)
        let processor = EventProcessor(
            ruleSet: harness.ruleSet, templates: templates, store: harness.store, logger: harness.logs.logger())
        try await harness.app().test(.router) { client in
            let headers = Fixtures.signedHeaders(provider: "cod-fulfillment", body: body)
            #expect(try await client.post("/webhooks/cod-fulfillment", body: body, headers: headers).0 == .ok)
            #expect(try await processor.processPending() == 1)
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains("# TYPE herald_messages_planned_total counter"))
                // pending when the test environment has Twilio credentials, held when it has not.
                let prefix = #"herald_messages_planned_total{channel="sms",state="#
                let sms = text.split(separator: "\n").filter { $0.hasPrefix(prefix) }
                #expect(!sms.isEmpty, "\(text)")
                #expect(!text.contains("\nherald_messages_planned_total "), "a count without labels")
            }
        }
    }
}
