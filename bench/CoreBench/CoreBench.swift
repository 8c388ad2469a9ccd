import Foundation
import HeraldCore

/// The pure core's speed on one core, release build (`bench/core`):
/// - rule evaluations per second: a 50-rule set (the shipped rules plus 40 variants with provider
///   lists, transitions and `where` predicates) against the seed payloads, through the same
///   `When.matches` the worker uses;
/// - messages rendered per second: every shipped template in ar, fr and en against the seed
///   payloads, through `MessageRenderer` (locale, recipient, formatting, bidi, SMS encoding).
@main
struct CoreBench {
    static func main() throws {
        let root = URL(fileURLWithPath: CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : ".")
        let shipped = try String(contentsOf: root.appendingPathComponent("rules.yaml"), encoding: .utf8)
        let environment = Environment(ProcessInfo.processInfo.environment.merging([
            "COD_WEBHOOK_SECRET": "x", "WAKILNI_WEBHOOK_SECRET": "x", "ARMADA_APP_ID": "x", "ELEBNE_WEBHOOK_SECRET": "x",
            "STOREFRONT_API_KEY": "x", "MERCHANT_PHONE": "+22236000000",
        ]) { $1 })
        let ruleSet = try RuleSet.parse(yaml: shipped + variants(count: 40), file: "rules.yaml", environment: environment)
        let templates = try TemplateStore.load(path: root.appendingPathComponent("templates").path)

        var events: [CanonicalEvent] = []
        for provider in Presets.names {
            let folder = root.appendingPathComponent("samples/\(provider)")
            for file in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() where file.hasSuffix(".json") {
                let body = Array(try Data(contentsOf: folder.appendingPathComponent(file)))
                let request = WebhookRequest(provider: provider, headers: [], body: body, receivedAt: Date())
                if let event = ruleSet.provider(named: provider)?.normalize(request).event { events.append(event) }
            }
        }
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores; \(events.count) seed events")

        // Rule evaluations.
        let rules = ruleSet.rules
        var matched = 0
        let (evaluations, evalSeconds) = timed { () -> Int in
            var count = 0
            for _ in 0..<1_000 {
                for event in events {
                    for rule in rules where rule.when.matches(event) { matched += 1 }
                    count += rules.count
                }
            }
            return count
        }
        report("rule evaluations/s (\(rules.count) rules)", Double(evaluations) / evalSeconds, target: 1_000_000)

        // Renders: each shipped template in each locale, for each event.
        let renderer = MessageRenderer(ruleSet: ruleSet, templates: templates)
        var renderRules: [Rule] = []
        let base = rules.first { $0.send != nil }!
        for name in ["order_confirmed", "out_for_delivery", "courier_will_call", "on_the_way", "delivered", "delivery_failed", "order_cancelled", "refund_processed", "stock_alert"] {
            for locale in ["ar", "fr", "en"] {
                var rule = base
                rule.send = Send(channel: "sms", template: name, to: "+212661234567", locale: locale)
                renderRules.append(rule)
            }
        }
        var characters = 0
        let (renders, renderSeconds) = timed { () -> Int in
            var count = 0
            for _ in 0..<20 {
                for event in events {
                    for rule in renderRules {
                        characters += renderer.render(rule, event: event)?.text.utf8.count ?? 0
                        count += 1
                    }
                }
            }
            return count
        }
        report("messages rendered/s (\(renderRules.count) template×locale)", Double(renders) / renderSeconds, target: 200_000)
        if matched == 0 || characters == 0 { print("warning: nothing matched or rendered") }

        // Phone numbers: 10 000 distinct national spellings (more than PhoneNumber caches, so
        // libphonenumber's own cost), then one E.164 number again and again (the cached path).
        let spellings = (0..<10_000).map { String(format: "0661%06d", $0) }
        let (fresh, freshSeconds) = timed { () -> Int in
            for spelling in spellings { _ = PhoneNumber.normalize(spelling, defaultCountry: "MA") }
            return spellings.count
        }
        print(String(format: "phone numbers read/s, each new: %.0f", Double(fresh) / freshSeconds))
        let (repeated, repeatedSeconds) = timed { () -> Int in
            for _ in 0..<10_000 { _ = PhoneNumber.normalize("+212661234567", defaultCountry: "MA") }
            return 10_000
        }
        print(String(format: "phone numbers read/s, the same E.164: %.0f", Double(repeated) / repeatedSeconds))
    }

    /// Runs `body` repeatedly for about two seconds after one warm-up call.
    static func timed(_ body: () -> Int) -> (Int, Double) {
        _ = body()
        let clock = ContinuousClock()
        let started = clock.now
        var total = 0
        while clock.now - started < .seconds(2) { total += body() }
        let elapsed = clock.now - started
        return (total, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    static func report(_ what: String, _ perSecond: Double, target: Double) {
        let verdict = perSecond >= target ? "PASS" : "MISS"
        print(String(format: "%@: %.0f   target ≥ %.0f   %@", what, perSecond, target, verdict))
    }

    /// Forty more rules of the kinds operators write, appended to the shipped `rules:` list.
    static func variants(count: Int) -> String {
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
        return (0..<count).map { n in
            """
              - id: variant-\(n)
                when: \(whens[n % whens.count])
                send: { channel: sms, template: delivered }

            """
        }.joined()
    }
}
