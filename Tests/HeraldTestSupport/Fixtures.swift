import Crypto
import Foundation
import HeraldCore

/// Real payloads from `samples/`, signed the way each provider signs them.
public enum Fixtures {
    /// The repository's root folder.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The documented test secret of `samples/README.md`.
    public static let secret = "herald-test-secret"
    public static let armadaAppID = "armada-app-7f3c"
    public static let storefrontKey = "sf-key-91c2d"

    /// Every variable the shipped rules.yaml references for providers, set to test values.
    public static let environment = Environment([
        "COD_WEBHOOK_SECRET": secret,
        "WAKILNI_WEBHOOK_SECRET": secret,
        "ARMADA_APP_ID": armadaAppID,
        "ELEBNE_WEBHOOK_SECRET": secret,
        "STOREFRONT_API_KEY": storefrontKey,
    ])

    /// The raw bytes of `samples/<provider>/<name>`.
    public static func sample(_ provider: String, _ name: String) -> [UInt8] {
        let url = root.appendingPathComponent("samples/\(provider)/\(name)")
        guard let data = try? Data(contentsOf: url) else { fatalError("missing fixture \(url.path)") }
        return Array(data)
    }

    /// The envelope `samples/<provider>/sequence/<file>`, decoded as `herald dry-run` reads it.
    public static func envelope(_ provider: String, _ file: String) throws -> CapturedInput {
        let data = try Data(contentsOf: root.appendingPathComponent("samples/\(provider)/sequence/\(file)"))
        return try CapturedInput.decode(name: file, bytes: Array(data), providerOverride: nil, folderProvider: nil).get()
    }

    /// The file names of `samples/<provider>/sequence/`, in order.
    public static func sequence(_ provider: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("samples/\(provider)/sequence").path).sorted()
    }

    /// The shipped rules.yaml with Twilio, WhatsApp Cloud and Wakilni's enrichment pointed at a
    /// local fake on `port` (enrichment sends `enrichHeaders`, a YAML flow mapping, when given).
    public static func shippedRulesText(fakeProviderPort port: Int, enrichHeaders: String? = nil) throws -> String {
        let fake = "http://127.0.0.1:\(port)"
        let headers = enrichHeaders.map { "headers: \($0), " } ?? ""
        return try String(contentsOf: root.appendingPathComponent("rules.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "from: \"${TWILIO_FROM}\" }", with: "from: \"${TWILIO_FROM}\", base_url: \"\(fake)\" }")
            .replacingOccurrences(of: "token: \"${WA_TOKEN}\" }", with: "token: \"${WA_TOKEN}\", base_url: \"\(fake)\" }")
            .replacingOccurrences(
                of: "timezone: Asia/Beirut, country: LB }",
                with: "timezone: Asia/Beirut, country: LB, enrich: { url: \"\(fake)/api/orders/{{order.reference}}\", \(headers)"
                    + "fields: { customer.phone: phone, customer.name: name } } }")
    }

    /// The shipped rules.yaml, loaded with `environment`.
    public static func shippedRuleSet(environment: Environment = Fixtures.environment) throws -> RuleSet {
        try RuleSet.load(path: root.appendingPathComponent("rules.yaml").path, environment: environment)
    }

    public static func hmacHex(_ body: [UInt8], secret: String = Fixtures.secret) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8))))
    }

    public static func hmacBase64(_ body: [UInt8], secret: String = Fixtures.secret) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8))))
            .base64EncodedString()
    }

    /// The headers each provider sends with `body`, authenticated as that provider does it.
    public static func signedHeaders(provider: String, body: [UInt8], deliveryID: String = UUID().uuidString)
        -> [HeaderField]
    {
        switch provider {
        case "cod-fulfillment":
            return [
                HeaderField(name: "Content-Type", value: "application/json"),
                HeaderField(name: "X-Webhook-Signature", value: hmacHex(body)),
            ]
        case "wakilni":
            return [
                HeaderField(name: "content-type", value: "application/json"),
                HeaderField(name: "x-webhook-signature", value: hmacBase64(body)),
                HeaderField(name: "x-webhook-delivery-id", value: deliveryID),
                HeaderField(name: "x-attempt-number", value: "1"),
                HeaderField(name: "x-webhook-source", value: "https://api.wakilni.com"),
            ]
        case "armada":
            return [
                HeaderField(name: "content-type", value: "application/json"),
                HeaderField(name: "x-armada-app-id", value: armadaAppID),
                HeaderField(name: "x-armada-installation-id", value: "inst-001"),
                HeaderField(name: "x-armada-webhook-id", value: deliveryID),
            ]
        case "elebne":
            return [
                HeaderField(name: "Content-Type", value: "application/json"),
                HeaderField(name: "X-Webhook-Signature", value: hmacHex(body)),
            ]
        case "storefront":
            return [
                HeaderField(name: "Content-Type", value: "application/json"),
                HeaderField(name: "X-Api-Key", value: storefrontKey),
            ]
        default:
            return []
        }
    }

    public static func request(
        provider: String, body: [UInt8], headers: [HeaderField]? = nil, remoteAddress: String? = "127.0.0.1",
        receivedAt: Date = Date(timeIntervalSince1970: 1_778_320_800)
    ) -> WebhookRequest {
        WebhookRequest(
            provider: provider, headers: headers ?? signedHeaders(provider: provider, body: body), body: body,
            remoteAddress: remoteAddress, receivedAt: receivedAt)
    }

    /// A fresh SQLite path in a folder of its own, removed by nobody: the OS cleans /tmp.
    public static func temporaryDatabasePath() -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-tests-\(UUID().uuidString)")
        return folder.appendingPathComponent("herald.sqlite").path
    }

    /// The cod-fulfillment seed payload with another reference, status and timestamp.
    public static func codPayload(
        reference: String, from old: String, to new: String, timestamp: String = "2026-05-09T12:00:00+02:00"
    ) -> [UInt8] {
        let text = """
            {"event":"order.status_updated","timestamp":"\(timestamp)","order":{"reference":"\(reference)",\
            "old_status":"\(old)","new_status":"\(new)","amount":1799,"currency":"MAD",\
            "tracking_number":"F-CSA6SFJ6EMY","delivery_notes":"Call before delivery",\
            "created_at":"2026-05-08T12:25:44+01:00"},"customer":{"name":"Karim Mansouri",\
            "phone":"+212661234567","city":"Casablanca","address":"123 Bd Mohammed V"},\
            "items":[{"product_name":"Argivit Classic Tablets","sku":"MA-ArgivitClassic","quantity":1,"price":1799}]}
            """
        return Array(text.utf8)
    }

    /// A provider `sw` verified by Standard Webhooks with the secret `${SW_SECRET}`, deduplicated
    /// on `webhook-id`.
    public static let standardWebhooksRules = """
        version: 1
        providers:
          sw:
            verify: { scheme: standard-webhooks, secret: "${SW_SECRET}" }
            fields: { order.reference: id, order.status: status }
            dedupe: [header:webhook-id]
        """
}
