import Dispatch
import Metrics

/// Intake's metric handles, resolved once when intake is built rather than on every request:
/// looking a handle up goes through the metrics factory's registry (a lock and a key built from
/// the label and dimensions), which was a per-request cost (issue 16, intake fast path).
///
/// The handles belong to the metrics system bootstrapped when intake is built (`herald serve`
/// bootstraps Prometheus first).
struct IntakeMetrics: Sendable {
    /// The status codes intake answers (DESIGN.md's table); others get a handle when they occur.
    static let statusCodes = [200, 400, 401, 404, 413, 503]

    private struct Handles: Sendable {
        var duration: Timer
        var answers: [Int: Counter]
    }

    private let handles: [String: Handles]

    /// Handles for each provider and for `unknown` (webhooks for a provider not in the rules).
    init(providers: some Sequence<String>) {
        var handles: [String: Handles] = [:]
        for name in Array(providers) + ["unknown"] {
            handles[name] = Handles(
                duration: Timer(label: "herald_intake_duration_seconds", dimensions: [("provider", name)]),
                answers: Dictionary(
                    uniqueKeysWithValues: Self.statusCodes.map { code in
                        (code, Self.answerCounter(provider: name, status: code))
                    }))
        }
        self.handles = handles
    }

    /// Counts one answer and its time since `started`; `provider` is a known provider's name or `unknown`.
    func record(provider: String, status: Int, since started: DispatchTime) {
        guard let handles = handles[provider] else { return }
        (handles.answers[status] ?? Self.answerCounter(provider: provider, status: status)).increment()
        handles.duration.recordInterval(since: started)
    }

    private static func answerCounter(provider: String, status: Int) -> Counter {
        Counter(label: "herald_webhooks_total", dimensions: [("provider", provider), ("status", "\(status)")])
    }
}
