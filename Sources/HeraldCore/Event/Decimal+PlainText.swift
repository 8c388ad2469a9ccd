import Foundation

extension Decimal {
    /// `"\(self)"` (digits, `.` as the separator), with a fast path for whole numbers that fit in
    /// 64 bits: amounts in minor units and quantities nearly always are.
    ///
    /// Measured: `Decimal`'s description (a long division per digit, on arrays) took 4.7 % of a
    /// dry-run of 20 000 envelopes (perf); the fast path is about 30 times faster.
    var plainText: String {
        if exponent >= 0, exponent < 19 {
            let whole = NSDecimalNumber(decimal: self).int64Value
            if Decimal(whole) == self { return String(whole) }
        }
        // Amounts in major units (`17.99` from 1799 minor units): the digits with the point put
        // in. Only when the last digit is not 0, so that no trailing zero is in question; the
        // description is the answer otherwise. Measured: the description took 4.6 % of a dry-run
        // of 20 000 envelopes (perf), each printing its order's amount.
        if exponent < 0, exponent >= -18 {
            let digits = NSDecimalNumber(decimal: significand).int64Value
            if digits > 0, digits % 10 != 0, Decimal(digits) == significand {
                let scale = -exponent
                var text = String(digits)
                if text.count <= scale { text = String(repeating: "0", count: scale - text.count + 1) + text }
                text.insert(".", at: text.index(text.endIndex, offsetBy: -scale))
                return sign == .minus ? "-" + text : text
            }
        }
        return "\(self)"
    }
}
