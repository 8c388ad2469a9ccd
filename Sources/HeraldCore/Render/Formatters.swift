import Foundation
import Synchronization

/// Locale-aware formatting for templates, with formatters built once per locale and reused.
///
/// Amounts use CLDR as Foundation gives it (MAD with 2 decimals, KWD with 3, LBP with 0; Arabic
/// in Kuwait with Arabic-Indic digits, in Morocco with Latin ones), in the most specific locale ICU
/// has data for (`FormattingLocale`: fr-KW formats as `fr`). No-break spaces become plain spaces
/// so a French amount does not force an SMS into UCS-2.
public final class Formatters: Sendable {
    private struct Key: Hashable {
        var kind: Int
        var locale: String
        var extra: String
    }

    private let cache = Mutex<[Key: Formatter]>([:])

    public init() {}

    /// `1.799,00 MAD` (fr-MA), `‏1.799,00 د.م.‏` (ar-MA), `‏٣٫٠٠٠ د.ك.‏` (ar-KW).
    public func amount(_ amount: Amount, locale: String) -> String {
        let currency = amount.currency ?? "XXX"
        let scale = amount.scale
        return cache.withLock { cache in
            let key = Key(kind: 0, locale: locale, extra: currency)
            let formatter: NumberFormatter
            if let cached = cache[key] as? NumberFormatter {
                formatter = cached
            } else {
                formatter = NumberFormatter()
                formatter.locale = FormattingLocale.locale(for: locale)
                formatter.numberStyle = amount.currency == nil ? .decimal : .currency
                if amount.currency != nil { formatter.currencyCode = currency }
                formatter.minimumFractionDigits = scale
                formatter.maximumFractionDigits = scale
                cache[key] = formatter
            }
            return Self.plainSpaces(formatter.string(from: amount.majorUnits as NSDecimalNumber) ?? "\(amount.majorUnits)")
        }
    }

    /// A whole number in the locale's digits (`٣` in ar-KW, `3` in ar-MA).
    public func integer(_ value: Int, locale: String) -> String {
        cache.withLock { cache in
            let key = Key(kind: 1, locale: locale, extra: "")
            let formatter: NumberFormatter
            if let cached = cache[key] as? NumberFormatter {
                formatter = cached
            } else {
                formatter = NumberFormatter()
                formatter.locale = FormattingLocale.locale(for: locale)
                formatter.numberStyle = .decimal
                cache[key] = formatter
            }
            return Self.plainSpaces(formatter.string(from: NSNumber(value: value)) ?? "\(value)")
        }
    }

    public enum DateStyle: Int, Sendable {
        case dateTime = 2, date = 3, time = 4
    }

    /// A date in `timeZone`, short and localized: `9 mai 2026 à 11:00`, `09‏/05‏/2026 11:00`.
    public func date(_ date: Date, style: DateStyle, locale: String, timeZone: TimeZone) -> String {
        cache.withLock { cache in
            let key = Key(kind: style.rawValue, locale: locale, extra: timeZone.identifier)
            let formatter: DateFormatter
            if let cached = cache[key] as? DateFormatter {
                formatter = cached
            } else {
                formatter = DateFormatter()
                formatter.locale = FormattingLocale.locale(for: locale)
                formatter.timeZone = timeZone
                formatter.dateStyle = style == .time ? .none : .medium
                formatter.timeStyle = style == .date ? .none : .short
                cache[key] = formatter
            }
            return Self.plainSpaces(formatter.string(from: date))
        }
    }

    static func plainSpaces(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "\u{00A0}" || $0 == "\u{202F}" }) else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { $0 == "\u{00A0}" || $0 == "\u{202F}" ? " " : $0 }))
    }
}
