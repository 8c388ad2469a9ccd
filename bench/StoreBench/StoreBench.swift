import Foundation
import HeraldCore
import HeraldStore
import Logging
import ServiceLifecycle

/// Durable group-commit throughput of the store alone: N concurrent writers recording unique
/// cod-fulfillment events into a fresh SQLite file (or the PostgreSQL database given as the third
/// argument), as intake does. `bench/store [EVENTS] [WRITERS] [postgres://…]`.
@main
struct StoreBench {
    static func main() async throws {
        let arguments = CommandLine.arguments
        let total = arguments.count > 1 ? Int(arguments[1]) ?? 20_000 : 20_000
        let writers = arguments.count > 2 ? Int(arguments[2]) ?? 32 : 32
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-storebench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store: any Store
        let transactions: @Sendable () -> Int
        if arguments.count > 3 {
            let postgres = try await PostgresStore.connect(
                PostgresURL(parsing: arguments[3]), logger: Logger(label: "storebench"))
            (store, transactions) = (postgres, { postgres.transactionCount })
        } else {
            let sqlite = try SQLiteStore(path: folder.appendingPathComponent("herald.sqlite").path)
            (store, transactions) = (sqlite, { sqlite.transactionCount })
        }
        let yaml = "version: 1\nproviders:\n  cod-fulfillment: { preset: cod-fulfillment, secret: s }\n"
        let profile = try RuleSet.parse(yaml: yaml, file: "rules.yaml", environment: Environment([:])).provider(named: "cod-fulfillment")!
        let event: @Sendable (Int) -> IncomingEvent = { n in
            let body = Array("""
                {"event":"order.status_updated","timestamp":"2026-05-09T12:00:00+02:00","order":{"reference":"B-\(n)","old_status":"prepared","new_status":"out_for_delivery","amount":1799,"currency":"MAD"},"customer":{"name":"Karim Mansouri","phone":"+212661234567"}}
                """.utf8)
            let request = WebhookRequest(
                provider: "cod-fulfillment", headers: [HeaderField(name: "X-Webhook-Signature", value: String(repeating: "a", count: 64))],
                body: body, receivedAt: Date())
            return IncomingEvent(request: request, profile: profile)
        }
        // The store's services run as in `herald serve`: the group committer's writer among them.
        try await withThrowingTaskGroup(of: Void.self) { services in
            // STOREBENCH_ALONE=1: without them, each event commits alone (for comparison).
            let alone = ProcessInfo.processInfo.environment["STOREBENCH_ALONE"] == "1"
            for service in store.services where !alone { services.addTask { try await service.run() } }
            try await Task.sleep(for: .milliseconds(100))
            try await measure(store, transactions: transactions, total: total, writers: writers, event: event)
            services.cancelAll()
        }
    }

    static func measure(
        _ store: any Store, transactions: @Sendable () -> Int, total: Int, writers: Int,
        event: @escaping @Sendable (Int) -> IncomingEvent
    ) async throws {
        let clock = ContinuousClock()
        let started = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<writers {
                group.addTask {
                    var n = w
                    while n < total {
                        _ = try await store.record(event(n))
                        n += writers
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = clock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(String(format: "store: %d events, %d writers, %.2f s = %.0f events/s, %d transactions (%.1f events each)",
            total, writers, seconds, Double(total) / seconds, transactions(), Double(total) / Double(transactions())))
        try await store.close()
    }
}
