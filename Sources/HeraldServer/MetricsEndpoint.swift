import Foundation
import HeraldStore
import Hummingbird
import Metrics
import NIOCore
import Prometheus

/// `GET /metrics`: every swift-metrics counter and timer of intake, processing and dispatch in
/// Prometheus text, plus the queue depths read from the store at scrape time.
public enum HeraldMetrics {
    /// The registry `herald serve` bootstraps swift-metrics with.
    public static let registry = PrometheusCollectorRegistry()

    /// Routes swift-metrics into `registry`; call once per process, before metrics are created.
    public static func bootstrap() {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["herald_send_to_delivered_seconds"] = ReceiptIntake.sendToDeliveredBuckets
        MetricsSystem.bootstrap(factory)
    }

    static func render(store: (any QueueDepths)?) async -> String {
        var text = registry.emitToString()
        if let store, let depths = try? await store.queueDepths() {
            text += "# TYPE herald_outbox_messages gauge\n"
            for state in OutboxMessage.State.allCases {
                text += "herald_outbox_messages{state=\"\(state.rawValue)\"} \(depths.messages[state] ?? 0)\n"
            }
            text += "# TYPE herald_events_waiting gauge\nherald_events_waiting \(depths.unprocessedEvents)\n"
        }
        return text
    }
}

extension Router where Context == HeraldRequestContext {
    func addMetrics(store: (any QueueDepths)?) {
        get("metrics") { _, _ -> Response in
            let text = await HeraldMetrics.render(store: store)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }
}
