import Foundation
import HeraldCore

/// Rule evaluations per second on one core: a 50-rule set (the shipped rules plus 40 variants
/// with provider lists, transitions and `where` predicates) against the seed payloads, through
/// the same `When.matches` the worker uses. Run in release: `bench/rules`.
@main
struct RulesBench {
    static func main() throws {
        let root = URL(fileURLWithPath: CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : ".")
        let shipped = try String(contentsOf: root.appendingPathComponent("rules.yaml"), encoding: .utf8)
        let environment = Environment(ProcessInfo.processInfo.environment.merging([
            "COD_WEBHOOK_SECRET": "x", "WAKILNI_WEBHOOK_SECRET": "x", "ARMADA_APP_ID": "x", "ELEBNE_WEBHOOK_SECRET": "x",
            "STOREFRONT_API_KEY": "x", "MERCHANT_PHONE": "+212600000000",
        ]) { $1 })
        let ruleSet = try RuleSet.parse(yaml: shipped + variants(count: 40), file: "rules.yaml", environment: environment)

        var events: [CanonicalEvent] = []
        for provider in Presets.names {
            let folder = root.appendingPathComponent("samples/\(provider)")
            for file in try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() where file.hasSuffix(".json") {
                let body = Array(try Data(contentsOf: folder.appendingPathComponent(file)))
                let request = WebhookRequest(provider: provider, headers: [], body: body, receivedAt: Date())
                if let event = ruleSet.provider(named: provider)?.normalize(request).event { events.append(event) }
            }
        }

        let rules = ruleSet.rules
        var evaluations = 0
        var matched = 0
        // Warm-up, then a timed run of about two seconds.
        for event in events { for rule in rules where rule.when.matches(event) { matched += 1 } }
        let clock = ContinuousClock()
        let started = clock.now
        var rounds = 0
        while clock.now - started < .seconds(2) {
            for _ in 0..<1_000 {
                for event in events {
                    for rule in rules {
                        if rule.when.matches(event) { matched += 1 }
                    }
                    evaluations += rules.count
                }
            }
            rounds += 1
        }
        let elapsed = clock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let perSecond = Double(evaluations) / seconds
        print("rules: \(rules.count), events: \(events.count) (seed payloads), matches seen: \(matched)")
        print(String(format: "rule evaluations/s (one core): %.0f   target ≥ 1000000   %@", perSecond, perSecond >= 1_000_000 ? "PASS" : "MISS"))
        print(String(format: "per event (all %d rules): %.2f µs", rules.count, seconds / Double(evaluations / rules.count) * 1e6))
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
