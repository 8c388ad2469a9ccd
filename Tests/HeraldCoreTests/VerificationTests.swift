import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

@Suite("Webhook verification")
struct VerificationTests {
    let ruleSet: RuleSet
    let now = Date(timeIntervalSince1970: 1_778_320_800)

    init() throws {
        ruleSet = try Fixtures.shippedRuleSet()
    }

    func verify(_ provider: String, body: [UInt8], headers: [HeaderField]? = nil, remote: String? = "127.0.0.1")
        -> VerificationOutcome
    {
        let request = Fixtures.request(provider: provider, body: body, headers: headers, remoteAddress: remote)
        return ruleSet.provider(named: provider)!.verification.verify(request, now: now)
    }

    @Test(
        "each seed payload signed the way its provider signs is accepted",
        arguments: [
            ("cod-fulfillment", "delivered.json"), ("wakilni", "2-order-confirmed.json"), ("armada", "dispatched.json"),
            ("elebne", "1-order-new.json"), ("storefront", "order-paid.json"),
        ])
    func seedPayloadsVerify(provider: String, file: String) {
        #expect(verify(provider, body: Fixtures.sample(provider, file)) == .verified)
    }

    @Test func codSignatureIsHexOfTheRawBody() {
        let body = Fixtures.sample("cod-fulfillment", "delivered.json")
        // Same JSON, re-serialized with other spacing: the signature of the raw bytes no longer matches.
        let respaced = Array(String(decoding: body, as: UTF8.self).replacingOccurrences(of: ", ", with: ",").utf8)
        let headers = [HeaderField(name: "X-Webhook-Signature", value: Fixtures.hmacHex(body))]
        #expect(verify("cod-fulfillment", body: respaced, headers: headers) == .rejected("signature does not match the body"))
    }

    @Test func tamperedBodyIsRejected() {
        var body = Fixtures.sample("cod-fulfillment", "delivered.json")
        let headers = Fixtures.signedHeaders(provider: "cod-fulfillment", body: body)
        body[body.count / 2] ^= 0x01
        #expect(verify("cod-fulfillment", body: body, headers: headers) == .rejected("signature does not match the body"))
    }

    @Test func wrongSecretIsRejected() {
        let body = Fixtures.sample("cod-fulfillment", "delivered.json")
        let headers = [HeaderField(name: "X-Webhook-Signature", value: Fixtures.hmacHex(body, secret: "other-secret"))]
        #expect(verify("cod-fulfillment", body: body, headers: headers) == .rejected("signature does not match the body"))
    }

    @Test func signatureInTheWrongEncodingIsRejected() {
        let body = Fixtures.sample("cod-fulfillment", "delivered.json")
        let base64 = [HeaderField(name: "X-Webhook-Signature", value: Fixtures.hmacBase64(body))]
        #expect(verify("cod-fulfillment", body: body, headers: base64) == .rejected("X-Webhook-Signature is not a hex HMAC-SHA256"))

        let wakilni = Fixtures.sample("wakilni", "2-order-confirmed.json")
        let hex = [HeaderField(name: "x-webhook-signature", value: Fixtures.hmacHex(wakilni))]
        #expect(verify("wakilni", body: wakilni, headers: hex) == .rejected("x-webhook-signature is not a base64 HMAC-SHA256"))
    }

    @Test func missingSignatureHeaderIsRejected() {
        let body = Fixtures.sample("cod-fulfillment", "delivered.json")
        #expect(verify("cod-fulfillment", body: body, headers: []) == .rejected("missing X-Webhook-Signature header"))
    }

    @Test func headerNamesAreCaseInsensitive() {
        let body = Fixtures.sample("cod-fulfillment", "delivered.json")
        let headers = [HeaderField(name: "x-webhook-signature", value: Fixtures.hmacHex(body).uppercased())]
        #expect(verify("cod-fulfillment", body: body, headers: headers) == .verified)
    }

    @Test func armadaNeedsItsAppID() {
        let body = Fixtures.sample("armada", "dispatched.json")
        #expect(verify("armada", body: body, headers: []) == .rejected("missing x-armada-app-id header"))
        #expect(
            verify("armada", body: body, headers: [HeaderField(name: "x-armada-app-id", value: "someone-else")])
                == .rejected("wrong x-armada-app-id"))
    }

    @Test func unsetSecretLeavesTheProviderUnconfigured() throws {
        var environment = Fixtures.environment
        environment.values["WAKILNI_WEBHOOK_SECRET"] = nil
        let ruleSet = try Fixtures.shippedRuleSet(environment: environment)
        let body = Fixtures.sample("wakilni", "2-order-confirmed.json")
        let outcome = ruleSet.provider(named: "wakilni")!.verification.verify(
            Fixtures.request(provider: "wakilni", body: body), now: now)
        #expect(outcome == .unconfigured(missing: ["WAKILNI_WEBHOOK_SECRET"]))
        #expect(ruleSet.missingVariables.filter { $0.usedBy.hasPrefix("provider") }.map(\.name) == ["WAKILNI_WEBHOOK_SECRET"])
    }

    @Test func allowListChecksTheSourceAddress() throws {
        let yaml = """
            version: 1
            providers:
              armada: { preset: armada, app_id: "${ARMADA_APP_ID}", allow_ips: ["203.0.113.0/24", "2001:db8::/32"] }
            """
        let ruleSet = try RuleSet.parse(yaml: yaml, file: "rules.yaml", environment: Fixtures.environment)
        let verification = ruleSet.provider(named: "armada")!.verification
        let body = Fixtures.sample("armada", "dispatched.json")
        func outcome(_ address: String?) -> VerificationOutcome {
            verification.verify(Fixtures.request(provider: "armada", body: body, remoteAddress: address), now: now)
        }
        #expect(outcome("203.0.113.45") == .verified)
        #expect(outcome("::ffff:203.0.113.45") == .verified)
        #expect(outcome("2001:db8:1::7") == .verified)
        #expect(outcome("198.51.100.7") == .rejected("source address not allowed"))
        #expect(outcome("2001:db9::1") == .rejected("source address not allowed"))
        #expect(outcome(nil) == .rejected("source address not allowed"))
    }

    @Test func pathTokenMustMatch() throws {
        let yaml = """
            version: 1
            providers:
              armada: { preset: armada, app_id: "${ARMADA_APP_ID}", path_token: "${ARMADA_PATH_TOKEN}" }
            """
        var environment = Fixtures.environment
        environment.values["ARMADA_PATH_TOKEN"] = "p4th-t0ken"
        let ruleSet = try RuleSet.parse(yaml: yaml, file: "rules.yaml", environment: environment)
        let verification = ruleSet.provider(named: "armada")!.verification
        var request = Fixtures.request(provider: "armada", body: Fixtures.sample("armada", "dispatched.json"))
        #expect(verification.verify(request, now: now) == .rejected("wrong or missing path token"))
        request.pathToken = "guess"
        #expect(verification.verify(request, now: now) == .rejected("wrong or missing path token"))
        request.pathToken = "p4th-t0ken"
        #expect(verification.verify(request, now: now) == .verified)
    }

    @Test func prefixedSignatures() throws {
        let yaml = """
            version: 1
            providers:
              myshop:
                verify: { scheme: hmac-sha256, header: X-Signature, encoding: hex, prefix: "sha256=", secret: "${S}" }
                fields: { order.reference: data.id, order.status: data.status }
                dedupe: [data.id, data.status]
            """
        let ruleSet = try RuleSet.parse(yaml: yaml, file: "rules.yaml", environment: Environment(["S": "k"]))
        let verification = ruleSet.provider(named: "myshop")!.verification
        let body = Array(#"{"data":{"id":"A1","status":"paid"}}"#.utf8)
        let signature = Fixtures.hmacHex(body, secret: "k")
        func outcome(_ header: String) -> VerificationOutcome {
            verification.verify(
                Fixtures.request(provider: "myshop", body: body, headers: [HeaderField(name: "X-Signature", value: header)]),
                now: now)
        }
        #expect(outcome("sha256=" + signature) == .verified)
        #expect(outcome(signature) == .rejected("X-Signature does not start with 'sha256='"))
    }
}

@Suite("Standard Webhooks")
struct StandardWebhooksTests {
    // The Standard Webhooks test vector (docs/providers.md), from the spec's reference libraries.
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let id = "msg_p5jXN8AQM9LWM0D4loKWxJek"
    static let timestamp = 1_614_265_330
    static let body = Array(#"{"test": 2432232314}"#.utf8)
    static let signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    func verification(secrets: [String]) -> Verification {
        Verification(scheme: .standardWebhooks(secrets: secrets.map(Secret.init(literal:)), tolerance: 300))
    }

    func request(signature: String = signature, timestamp: Int = timestamp) -> WebhookRequest {
        WebhookRequest(
            provider: "sw",
            headers: [
                HeaderField(name: "webhook-id", value: Self.id),
                HeaderField(name: "webhook-timestamp", value: "\(timestamp)"),
                HeaderField(name: "webhook-signature", value: signature),
            ], body: Self.body, receivedAt: Date(timeIntervalSince1970: Double(Self.timestamp)))
    }

    @Test func signingReproducesTheVector() {
        #expect(StandardWebhooks.sign(id: Self.id, timestamp: Self.timestamp, body: Self.body, secret: Self.secret) == Self.signature)
    }

    @Test func vectorVerifies() {
        let now = Date(timeIntervalSince1970: Double(Self.timestamp) + 10)
        #expect(verification(secrets: [Self.secret]).verify(request(), now: now) == .verified)
    }

    @Test func replayOutsideToleranceIsRejected() {
        let now = Date(timeIntervalSince1970: Double(Self.timestamp) + 301)
        #expect(
            verification(secrets: [Self.secret]).verify(request(), now: now)
                == .rejected("webhook-timestamp outside the 300 s tolerance"))
        let early = Date(timeIntervalSince1970: Double(Self.timestamp) - 301)
        #expect(verification(secrets: [Self.secret]).verify(request(), now: early) != .verified)
    }

    @Test func rotatedSecretsAndSeveralSignatures() {
        let now = Date(timeIntervalSince1970: Double(Self.timestamp))
        let old = "whsec_" + Data("an older secret of 24 b.".utf8).base64EncodedString()
        // The receiver knows the old and the new secret; the sender signs with the new one.
        #expect(verification(secrets: [old, Self.secret]).verify(request(), now: now) == .verified)
        // The sender sends two signatures during its rotation; one matching is enough.
        let both = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= " + Self.signature
        #expect(verification(secrets: [Self.secret]).verify(request(signature: both), now: now) == .verified)
        #expect(verification(secrets: [old]).verify(request(), now: now) == .rejected("signature does not match the body"))
    }

    /// The official libraries accept a `whsec_` secret whose base64 has lost its `=` padding.
    @Test func unpaddedSecretVerifiesLikeThePaddedOne() throws {
        let padded = "whsec_" + Data((0..<31).map { UInt8($0 * 7 % 256) }).base64EncodedString()
        #expect(padded.hasSuffix("="))
        let unpadded = padded.replacingOccurrences(of: "=", with: "")
        func sign(_ secret: String) -> String? {
            StandardWebhooks.sign(id: Self.id, timestamp: Self.timestamp, body: Self.body, secret: secret)
        }
        let signature = try #require(sign(padded))
        let now = Date(timeIntervalSince1970: Double(Self.timestamp))
        #expect(verification(secrets: [unpadded]).verify(request(signature: signature), now: now) == .verified)
        #expect(sign(unpadded) == signature)
        #expect(StandardWebhooks.key(for: "whsec_not base64!") == nil)
        #expect(StandardWebhooks.key(for: "whsec_") == nil)
    }

    /// Senders built on Svix name the headers `svix-id`, `svix-timestamp`, `svix-signature`.
    @Test func svixHeaderNamesAreReadWhenTheStandardOnesAreAbsent() {
        let now = Date(timeIntervalSince1970: Double(Self.timestamp))
        let svix = WebhookRequest(
            provider: "sw",
            headers: [
                HeaderField(name: "svix-id", value: Self.id),
                HeaderField(name: "svix-timestamp", value: "\(Self.timestamp)"),
                HeaderField(name: "svix-signature", value: Self.signature),
            ], body: Self.body, receivedAt: now)
        #expect(verification(secrets: [Self.secret]).verify(svix, now: now) == .verified)
        // `dedupe: [header:webhook-id]` finds the id too.
        #expect(FieldSource(parsing: "header:webhook-id").value(in: svix, body: nil) == .string(Self.id))
        // The webhook-* headers win when both are sent.
        var both = svix
        let zeros = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        both.headers.append(HeaderField(name: "webhook-signature", value: zeros))
        let outcome = verification(secrets: [Self.secret]).verify(both, now: now)
        #expect(outcome == .rejected("signature does not match the body"))
    }

    @Test func changedTimestampBreaksTheSignature() {
        let now = Date(timeIntervalSince1970: Double(Self.timestamp))
        #expect(
            verification(secrets: [Self.secret]).verify(request(timestamp: Self.timestamp + 1), now: now)
                == .rejected("signature does not match the body"))
    }
}
