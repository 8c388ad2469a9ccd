import Foundation

extension Amount {
    /// Which separator marks the decimals in a provider's textual amounts (`amount_decimal` in rules.yaml).
    public enum DecimalMark: String, Sendable, CaseIterable {
        /// `1,249.00`: a point marks the decimals, a comma groups thousands.
        case point = "."
        /// `1.249,00`: a comma marks the decimals, a point groups thousands.
        case comma = ","
        /// Decided by the text itself; a lone separator followed by exactly three digits (`1,249`) is refused.
        case auto
    }

    /// A number read from a payload, with the currencies the text itself named (`MAD 1,249.00`).
    public struct Reading: Sendable, Equatable {
        public var value: Decimal
        /// ISO 4217 codes the written code or symbol can stand for (`$` → USD); empty when the text names none.
        public var currencies: Set<String>

        public init(value: Decimal, currencies: Set<String> = []) {
            self.value = value
            self.currencies = currencies
        }
    }

    /// Why a textual amount was not read; `reason` is for an operator (`grouping is inconsistent`).
    public struct TextError: Error, Sendable, Equatable, CustomStringConvertible {
        public var reason: String
        public var description: String { reason }
    }

    /// Reads a JSON value as an amount: JSON numbers as they are, strings only when the whole text is
    /// a number in a recognised format, with an optional currency code or symbol before or after.
    ///
    /// Grouping by space, no-break space, comma, point or `٬`; decimals by point, comma or `٫`;
    /// Arabic-Indic digits; a leading minus (a refund). Anything else is an error, never a guess:
    /// `12abc` and `1,2,3` are refused, and so is `1,249` unless `decimalMark` says which it is.
    /// Returns nil for JSON null (no amount).
    public static func read(_ value: JSONValue, decimalMark: DecimalMark) throws(TextError) -> Reading? {
        switch value {
        case .null: return nil
        case .number(let text):
            guard let number = AmountText.plainDecimal(Substring(text)) ?? AmountText.exponentDecimal(text) else {
                throw TextError(reason: "\(text) is not a number Herald can represent")
            }
            return Reading(value: number)
        case .string(let text): return try read(text, decimalMark: decimalMark)
        default:
            throw TextError(reason: "\(value.scalarText.map { "\($0) is" } ?? "a list or an object is") not a number")
        }
    }

    /// Reads an amount written as text (see `read(_:decimalMark:)` for JSON values).
    public static func read(_ text: String, decimalMark: DecimalMark) throws(TextError) -> Reading {
        if let number = AmountText.fastPath(text, decimalMark: decimalMark) { return Reading(value: number) }
        return try AmountText(decimalMark: decimalMark).read(text)
    }
}

/// The slow path of `Amount.read`: separators, digits in other scripts, currency codes and symbols.
struct AmountText {
    let decimalMark: Amount.DecimalMark

    private enum Separator: Equatable {
        case space, comma, point, arabicDecimal, arabicGroup
    }

    private enum Token: Equatable {
        case digits(String)
        case separator(Separator, Unicode.Scalar)
    }

    /// `1249`, `-12.50`, `0.500`: ASCII digits with at most one point, not ambiguous. Most payloads
    /// take this path; it builds the Decimal from the digits without a formatter or a locale.
    static func fastPath(_ text: String, decimalMark: Amount.DecimalMark) -> Decimal? {
        var integerDigits = 0
        var fractionDigits = -1
        var firstDigit: UInt8 = 0
        var index = 0
        for byte in text.utf8 {
            defer { index += 1 }
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if fractionDigits >= 0 {
                    fractionDigits += 1
                } else {
                    if integerDigits == 0 { firstDigit = byte }
                    integerDigits += 1
                }
            case UInt8(ascii: "-") where index == 0: continue
            case UInt8(ascii: ".") where fractionDigits < 0 && integerDigits > 0: fractionDigits = 0
            default: return nil
            }
        }
        guard integerDigits > 0, fractionDigits != 0 else { return nil }
        if fractionDigits > 0 {
            if decimalMark == .comma { return nil }
            if decimalMark == .auto, fractionDigits == 3, integerDigits <= 3, firstDigit != UInt8(ascii: "0") {
                return nil
            }
        }
        return plainDecimal(Substring(text))
    }

    /// A Decimal from `-?[0-9]+(\.[0-9]+)?` (already checked or normalized); nil for anything else.
    static func plainDecimal(_ text: Substring) -> Decimal? {
        var significand: UInt64 = 0
        var digits = 0
        var exponent = 0
        var negative = false
        var seenPoint = false
        var first = true
        for byte in text.utf8 {
            defer { first = false }
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                guard digits < 19 else { return Decimal(string: String(text)).flatMap { $0.isFinite ? $0 : nil } }
                significand = significand * 10 + UInt64(byte - UInt8(ascii: "0"))
                if significand > 0 { digits += 1 }
                if seenPoint { exponent -= 1 }
            case UInt8(ascii: "-") where first: negative = true
            case UInt8(ascii: ".") where !seenPoint: seenPoint = true
            default: return nil
            }
        }
        // Compact, as Decimal(string:) is: 1249.00 is stored (and printed) as 1249.
        while exponent < 0, significand % 10 == 0, significand > 0 {
            significand /= 10
            exponent += 1
        }
        if significand == 0 { exponent = 0 }
        let value = Decimal(sign: .plus, exponent: exponent, significand: Decimal(significand))
        return negative && significand > 0 ? -value : value
    }

    /// JSON numbers with an exponent (`1.5e3`, already checked by the JSON parser); nil when
    /// Decimal cannot hold them (`1e400`).
    static func exponentDecimal(_ text: String) -> Decimal? {
        guard let number = Decimal(string: text), number.isFinite else { return nil }
        return number
    }

    func read(_ text: String) throws(Amount.TextError) -> Amount.Reading {
        let scalars = Array(text.unicodeScalars)
        guard let first = scalars.firstIndex(where: { Self.digit($0) != nil }),
            let last = scalars.lastIndex(where: { Self.digit($0) != nil })
        else {
            throw Amount.TextError(reason: text.isEmpty ? "it is empty" : "it has no digits")
        }
        var prefix = Self.cleaned(scalars[..<first])
        let suffix = Self.cleaned(scalars[(last + 1)...])
        var negative = false
        if let sign = prefix.unicodeScalars.last, sign == "-" || sign == "\u{2212}" {
            negative = true
            prefix = Self.cleaned(prefix.unicodeScalars.dropLast())
        } else if let sign = prefix.unicodeScalars.first, sign == "-" || sign == "\u{2212}" {
            negative = true
            prefix = Self.cleaned(prefix.unicodeScalars.dropFirst())
        }
        var currencies: Set<String> = []
        if !prefix.isEmpty, !suffix.isEmpty {
            throw Amount.TextError(reason: "it has text on both sides of the number ('\(prefix)', '\(suffix)')")
        }
        let word = prefix.isEmpty ? suffix : prefix
        if !word.isEmpty {
            guard let codes = CurrencySymbols.codes(for: word) else {
                throw Amount.TextError(reason: "'\(word)' is not a currency code or symbol")
            }
            currencies = codes
        }

        var tokens: [Token] = []
        var run = ""
        for scalar in scalars[first...last] {
            if let digit = Self.digit(scalar) {
                run.unicodeScalars.append(digit)
                continue
            }
            guard let separator = Self.separator(scalar) else {
                throw Amount.TextError(reason: "'\(Character(scalar))' cannot appear in a number")
            }
            guard !run.isEmpty else { throw Amount.TextError(reason: "two separators follow each other") }
            tokens.append(.digits(run))
            tokens.append(.separator(separator, scalar))
            run = ""
        }
        tokens.append(.digits(run))
        let number = try digits(of: tokens)
        guard let value = Self.plainDecimal(Substring((negative ? "-" : "") + number)) else {
            throw Amount.TextError(reason: "it is too large")
        }
        return Amount.Reading(value: value, currencies: currencies)
    }

    /// `1249.00` (ASCII, point) from the tokens, once the decimal separator is decided and the grouping checked.
    private func digits(of tokens: [Token]) throws(Amount.TextError) -> String {
        let separators: [Separator] = tokens.compactMap {
            if case .separator(let s, _) = $0 { return s } else { return nil }
        }
        let decimalIndex = try decimalSeparatorIndex(tokens, separators: separators)
        var integer = ""
        var fraction = ""
        var groups: [String] = []
        var groupSeparator: Separator?
        for (index, token) in tokens.enumerated() {
            switch token {
            case .digits(let run):
                if let decimalIndex, index > decimalIndex { fraction += run } else { groups.append(run) }
            case .separator(let separator, let scalar):
                if let decimalIndex, index > decimalIndex {
                    throw Amount.TextError(reason: "'\(Character(scalar))' after the decimal separator")
                }
                if index == decimalIndex { continue }
                if let groupSeparator, groupSeparator != separator {
                    throw Amount.TextError(reason: "it groups digits with two different separators")
                }
                groupSeparator = separator
            }
        }
        if groups.count > 1 {
            guard (1...3).contains(groups[0].count), groups.dropFirst().allSatisfy({ $0.count == 3 }) else {
                throw Amount.TextError(reason: "its digit groups are not thousands (\(groups.joined(separator: " ")))")
            }
        }
        integer = groups.joined()
        return fraction.isEmpty ? integer : integer + "." + fraction
    }

    /// Where the decimal separator is among the tokens, or nil when the number has none.
    private func decimalSeparatorIndex(_ tokens: [Token], separators: [Separator]) throws(Amount.TextError) -> Int? {
        func lastIndex(of kind: Separator) -> Int? {
            tokens.lastIndex { if case .separator(kind, _) = $0 { return true } else { return false } }
        }
        func single(_ kind: Separator) throws(Amount.TextError) -> Int? {
            guard separators.filter({ $0 == kind }).count <= 1 else {
                throw Amount.TextError(reason: "it has more than one decimal separator")
            }
            return lastIndex(of: kind)
        }
        if separators.contains(.arabicDecimal) { return try single(.arabicDecimal) }
        let hasComma = separators.contains(.comma)
        let hasPoint = separators.contains(.point)
        switch decimalMark {
        case .point: return try single(.point)
        case .comma: return try single(.comma)
        case .auto: break
        }
        if hasComma, hasPoint {
            return try single(lastIndex(of: .comma)! > lastIndex(of: .point)! ? .comma : .point)
        }
        guard hasComma || hasPoint else { return nil }
        let kind: Separator = hasComma ? .comma : .point
        guard separators.filter({ $0 == kind }).count == 1, let index = lastIndex(of: kind) else {
            return nil  // several: they group thousands
        }
        guard case .digits(let after) = tokens[index + 1], case .digits(let before) = tokens[index - 1] else {
            return index
        }
        if after.count != 3 { return index }
        let couldGroup = index == 1 && before.count <= 3 && !before.hasPrefix("0")
        guard couldGroup else { return index }
        let mark = kind == .comma ? "," : "."
        throw Amount.TextError(
            reason:
                "'\(mark)' followed by three digits may be decimals or thousands: set amount_decimal to \".\" or \",\"")
    }

    /// The ASCII digit of a digit in Latin, Arabic-Indic or Eastern Arabic-Indic script.
    static func digit(_ scalar: Unicode.Scalar) -> Unicode.Scalar? {
        switch scalar.value {
        case 0x30...0x39: return scalar
        case 0x660...0x669: return Unicode.Scalar(scalar.value - 0x660 + 0x30)
        case 0x6F0...0x6F9: return Unicode.Scalar(scalar.value - 0x6F0 + 0x30)
        default: return nil
        }
    }

    private static func separator(_ scalar: Unicode.Scalar) -> Separator? {
        switch scalar {
        case " ", "\u{00A0}", "\u{202F}", "\u{2009}": return .space
        case ",": return .comma
        case ".": return .point
        case "\u{066B}": return .arabicDecimal
        case "\u{066C}": return .arabicGroup
        default: return nil
        }
    }

    /// The text around the number without white space or direction marks.
    static func cleaned<S: Sequence<Unicode.Scalar>>(_ scalars: S) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars.lazy.filter { !CurrencySymbols.isDirectionMark($0) })
        return String(view).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
