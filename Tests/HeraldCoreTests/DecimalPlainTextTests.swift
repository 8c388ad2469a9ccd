import Foundation
import Testing

@testable import HeraldCore

/// `Decimal.plainText` prints amounts and quantities in dry-run's JSON: its fast paths must give
/// the text Foundation's description gives.
@Suite("Decimal.plainText")
struct DecimalPlainTextTests {
    @Test func everyAmountReadsAsFoundationWritesIt() {
        var values: [Decimal] = [0, 1, -1, Decimal(Int64.max), Decimal(string: "18.00")!, Decimal(string: "0.001")!]
        for minor in stride(from: -3_000, through: 3_000, by: 7) {
            values.append(Decimal(minor) / 100)
            values.append(Decimal(minor) / 1_000)
            values.append(Decimal(minor))
        }
        values.append(Decimal(string: "123456789012345.6789")!)
        values.append(Decimal(string: "0.000000000000000001")!)
        for value in values {
            #expect(value.plainText == "\(value)", "\(value)")
        }
        #expect((Decimal(1799) / 100).plainText == "17.99")
        #expect((Decimal(-5) / 100).plainText == "-0.05")
    }
}
