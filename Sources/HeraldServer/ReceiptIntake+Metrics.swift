import Foundation
import HeraldCore
import HeraldStore
import Metrics

/// What `/metrics` tells of receipts: `herald_receipts_total{channel,status}` and the histogram
/// `herald_send_to_delivered_seconds{channel}`.
extension ReceiptIntake {
    /// The buckets of `herald_send_to_delivered_seconds`: carriers report within seconds to
    /// minutes, a phone that was off reports hours later.
    static let sendToDeliveredBuckets: [Duration] = [
        .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120),
        .seconds(300), .seconds(900), .seconds(1800), .seconds(3600), .seconds(6 * 3600), .seconds(24 * 3600),
    ]

    /// Counts each receipt recorded (a provider's redelivery, a duplicate, is not counted again) by
    /// channel and status: the state it maps to (`sent`, `delivered`, `read`, `undelivered`),
    /// `unknown` for a status Herald does not know, `reply`, or `unparsed`; and times send →
    /// delivered when a receipt recorded a message's delivery and its send time is known.
    func recordMetrics(_ incoming: [IncomingReceipt], _ outcomes: [ReceiptOutcome]) {
        for (receipt, outcome) in zip(incoming, outcomes) {
            guard case .recorded(_, _, let effects) = outcome else { continue }
            Counter(
                label: "herald_receipts_total", dimensions: [("channel", receipt.channel), ("status", receipt.status)]
            ).increment()
            if let seconds = effects.sentToDelivered {
                Timer(label: "herald_send_to_delivered_seconds", dimensions: [("channel", receipt.channel)])
                    .recordNanoseconds(Int64((seconds * 1e9).rounded()))
            }
        }
    }
}

extension IncomingReceipt {
    /// The `status` label of `herald_receipts_total`.
    var status: String {
        switch receipt?.content {
        case .status(let report)?: report.state?.rawValue ?? "unknown"
        case .reply?: "reply"
        case nil: "unparsed"
        }
    }
}
