import Foundation
import HeraldTestSupport
import Testing

@testable import HeraldCore

/// `herald dry-run --format json` writes each line straight into its buffer (`appendJSONLine`);
/// these hold it to the bytes of the line's JSON tree (`jsonValue`), which DESIGN.md describes.
@Suite("Dry-run's JSON line, written directly")
struct DryRunJSONLineTests {
    let session: DryRunSession

    init() throws {
        var environment = Fixtures.environment.values
        environment["MERCHANT_PHONE"] = "+22236000000"
        let ruleSet = try Fixtures.shippedRuleSet(environment: Environment(environment))
        let templates = try TemplateStore.load(path: Fixtures.root.appendingPathComponent("templates").path)
        session = DryRunSession(
            ruleSet: ruleSet, templates: templates,
            now: Timestamp.parse("2026-05-10T12:00:00Z", defaultTimeZone: TimeZone(identifier: "UTC")!))
    }

    func sameBytes(_ result: DryRunResult, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        var written: [UInt8] = []
        result.appendJSONLine(to: &written)
        #expect(
            String(decoding: written, as: UTF8.self) == result.jsonValue.serialized(), "\(result.input)",
            sourceLocation: sourceLocation)
    }

    /// Every sample (every provider, sequences with inherited values, redeliveries, UCS-2 and
    /// WhatsApp messages, a sandbox event), then a forged envelope, a suppressed number and an
    /// amount that cannot be read.
    @Test func everySampleWritesTheSameBytesAsItsTree() throws {
        let samples = Fixtures.root.appendingPathComponent("samples")
        var count = 0
        for provider in try FileManager.default.contentsOfDirectory(atPath: samples.path).sorted() {
            let folder = samples.appendingPathComponent(provider)
            guard let walker = FileManager.default.enumerator(atPath: folder.path) else { continue }
            for case let relative as String in walker where relative.hasSuffix(".json") {
                let bytes = Array(try Data(contentsOf: folder.appendingPathComponent(relative)))
                let input = try CapturedInput.decode(
                    name: "\(provider)/\(relative)", bytes: bytes, providerOverride: nil, folderProvider: provider
                ).get()
                sameBytes(session.process(input))
                count += 1
            }
        }
        #expect(count >= 25)

        let body = Fixtures.sample("cod-fulfillment", "delivered.json")
        let forged = CapturedInput(
            name: "forged", provider: "cod-fulfillment",
            headers: [HeaderField(name: "X-Webhook-Signature", value: String(repeating: "0", count: 64))], body: body,
            receivedAt: nil, isEnvelope: true)
        let refused = session.process(forged)
        #expect(refused.refused)
        sameBytes(refused)

        session.knowSuppression(number: "+212661234567", channel: nil, reason: "STOP reply (reply)")
        let text = String(decoding: body, as: UTF8.self).replacingOccurrences(of: "ORD-", with: "SUP-")
        let suppressed = session.process(
            CapturedInput(
                name: "suppressed", provider: "cod-fulfillment", headers: [], body: Array(text.utf8), receivedAt: nil,
                isEnvelope: false))
        #expect(suppressed.messages.contains { $0.suppressed != nil })
        sameBytes(suppressed)

        let unreadable = session.unreadable("broken.json", "invalid JSON at byte 3: \"quoted\"\n")
        sameBytes(unreadable)
    }

    @Test func anEventWithAnUnreadableAmountWritesItsInvalidFields() throws {
        var event = CanonicalEvent(
            provider: "cod-fulfillment", receivedAt: Date(timeIntervalSince1970: 0), payload: .null)
        event.invalidFields = ["order.amount": "order.amount '12abc' is not a readable number", "items.0.price": "x"]
        event.items = [CanonicalEvent.Item(name: "Thé \"vert\"", sku: nil, quantity: Decimal(2), price: nil)]
        let result = DryRunResult(
            input: "a", provider: "cod-fulfillment", verification: .skipped, event: event, duplicateOf: "b",
            stale: true,
            rules: [RuleResult(id: "r", matched: false, reason: "event: wanted x, got none")], messages: [], errors: [])
        sameBytes(result)
    }
}
