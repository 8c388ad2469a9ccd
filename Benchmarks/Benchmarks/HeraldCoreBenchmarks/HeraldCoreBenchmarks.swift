import Benchmark
import Crypto
import Foundation
import HeraldCore

/// The pure core's hot paths, one benchmark each, over the repository's own inputs (rules.yaml,
/// templates/, samples/): what the worker and `herald dry-run` do for every webhook.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        maxDuration: .seconds(2), maxIterations: 1_000_000)
    let inputs = try! Inputs.load()

    let evaluations = inputs.ruleSet.rules.count * inputs.events.count
    Benchmark(
        "Rule evaluation (\(inputs.ruleSet.rules.count) rules × \(inputs.events.count) seed events = \(evaluations) evaluations)"
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            var matched = 0
            for event in inputs.events {
                for rule in inputs.ruleSet.rules where rule.when.matches(event) { matched += 1 }
            }
            blackHole(matched)
        }
    }

    // The harness calls each closure once per sample, so a closure goes through all of its inputs
    // every time (a counter kept inside it would start again at 0 and measure the first input only).
    Benchmark(
        "Render SMS (\(inputs.renderRules.count) template × locale × \(inputs.events.count) seed events = \(inputs.renderRules.count * inputs.events.count) renders)"
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            for event in inputs.events {
                for rule in inputs.renderRules { blackHole(inputs.renderer.render(rule, event: event)) }
            }
        }
    }

    Benchmark("Normalize seed payloads (\(inputs.requests.count) payloads, 5 providers)") { benchmark in
        for _ in benchmark.scaledIterations {
            for (profile, request) in inputs.requests { blackHole(profile.normalize(request)) }
        }
    }

    Benchmark("Verify HMAC signature (cod-fulfillment, hex HMAC-SHA256)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(inputs.signed.profile.verification.verify(inputs.signed.request, now: inputs.now))
        }
    }

    Benchmark("Parse seed payloads (JSON, \(inputs.requests.count) payloads)") { benchmark in
        for _ in benchmark.scaledIterations {
            for (_, request) in inputs.requests { blackHole(try? JSONParser.parse(request.body)) }
        }
    }

    Benchmark("SMS encoding and segments (Arabic and French)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(SMSEncoding.of("مرحباً سلمى، تم توصيل طلبك ⁨ORD-000130⁩ بنجاح. شكراً لثقتك!"))
            blackHole(SMSEncoding.of("Bonjour Salma, votre commande ORD-000130 a bien été livrée. Merci de votre confiance !"))
        }
    }

    // What the harness itself costs per sample (mallocs, wall clock), to subtract from the figures above.
    Benchmark("Harness floor (empty iteration)") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(0) }
    }
}

/// The repository's inputs, loaded once: the shipped rules plus 40 variants (50 rules), the
/// templates, and every sample payload normalized into canonical events.
struct Inputs: Sendable {
    let ruleSet: RuleSet
    let renderer: MessageRenderer
    let renderRules: [Rule]
    let events: [CanonicalEvent]
    let requests: [(ProviderProfile, WebhookRequest)]
    let signed: (profile: ProviderProfile, request: WebhookRequest)
    let now: Date

    static func load() throws -> Inputs {
        // Benchmarks/Benchmarks/HeraldCoreBenchmarks/ → the repository.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let secret = "herald-bench-secret"
        let environment = Environment([
            "COD_WEBHOOK_SECRET": secret, "WAKILNI_WEBHOOK_SECRET": secret, "ARMADA_APP_ID": "x", "ELEBNE_WEBHOOK_SECRET": secret,
            "STOREFRONT_API_KEY": "x", "MERCHANT_PHONE": "+22236000000",
        ])
        let shipped = try String(contentsOf: root.appendingPathComponent("rules.yaml"), encoding: .utf8)
        // The same 40 variants as bench/CoreBench, so that the two tools measure the same 50 rules.
        let whens = [
            "{ provider: cod-fulfillment, transition: { from: out_for_delivery, to: [delivered, returned] } }",
            "{ transition: { to: delivered }, where: { order.delivery_notes: { contains: appel } } }",
            "{ provider: [wakilni, armada], where: { order.amount: { gte: 100 } } }",
            "{ event: [order.new, order.accepted], where: { customer.name: { matches: '^A' } } }",
            "{ where: { any: [ { customer.city: Casablanca }, { customer.city: { in: [Rabat, Tanger] } } ] } }",
            "{ provider: elebne, where: { not: { order.status: CANCELLED } } }",
            "{ transition: { from: [prepared, Pending], to: [out_for_delivery, Confirmed] } }",
            "{ where: { payload.items.0.quantity: { gt: 1 }, order.currency: MAD } }",
        ]
        let variants = (0..<40).map { n in
            """
              - id: variant-\(n)
                when: \(whens[n % whens.count])
                send: { channel: sms, template: delivered }

            """
        }.joined()
        let ruleSet = try RuleSet.parse(yaml: shipped + variants, file: "rules.yaml", environment: environment)
        let templates = try TemplateStore.load(path: root.appendingPathComponent("templates").path)

        var requests: [(ProviderProfile, WebhookRequest)] = []
        for provider in Presets.names {
            let folder = root.appendingPathComponent("samples/\(provider)")
            for file in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() where file.hasSuffix(".json") {
                let body = Array(try Data(contentsOf: folder.appendingPathComponent(file)))
                if let profile = ruleSet.provider(named: provider) {
                    requests.append((profile, WebhookRequest(provider: provider, headers: [], body: body, receivedAt: Date())))
                }
            }
        }
        let events = requests.compactMap { $0.0.normalize($0.1).event }

        let base = ruleSet.rules.first { $0.send != nil }!
        var renderRules: [Rule] = []
        for name in [
            "order_confirmed", "out_for_delivery", "courier_will_call", "on_the_way", "delivered", "delivery_failed",
            "order_cancelled", "refund_processed", "stock_alert",
        ] {
            for locale in ["ar", "fr", "en"] {
                var rule = base
                rule.send = Send(channel: "sms", template: name, to: "+212661234567", locale: locale)
                renderRules.append(rule)
            }
        }

        let cod = ruleSet.provider(named: "cod-fulfillment")!
        let body = requests.first { $0.0.name == "cod-fulfillment" }!.1.body
        let signature = Hex.encode(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8))))
        let signed = WebhookRequest(
            provider: "cod-fulfillment", headers: [HeaderField(name: "X-Webhook-Signature", value: signature)], body: body,
            receivedAt: Date())
        let now = Date(timeIntervalSince1970: 1_778_414_400)
        // Measure the path a genuine webhook takes, not an early rejection.
        precondition(cod.verification.verify(signed, now: now) == .verified, "the benchmark's signed request must verify")
        precondition(events.count == requests.count, "every seed payload must normalize")
        return Inputs(
            ruleSet: ruleSet, renderer: MessageRenderer(ruleSet: ruleSet, templates: templates), renderRules: renderRules,
            events: events, requests: requests, signed: (cod, signed), now: now)
    }
}
