/// CLDR plural categories for the locales Herald writes in.
public enum PluralCategory: String, Sendable, CaseIterable {
    case zero, one, two, few, many, other
}

public enum PluralRules {
    /// The category of the whole number `n` in `locale` (language code, region ignored).
    ///
    /// Arabic: zero 0, one 1, two 2, few n%100 in 3…10, many n%100 in 11…99, other.
    /// French: one for 0 and 1, many for multiples of a million, other.
    /// English and others: one for 1, other.
    public static func category(of n: Int, locale: String) -> PluralCategory {
        let n = abs(n)
        switch language(of: locale) {
        case "ar":
            if n == 0 { return .zero }
            if n == 1 { return .one }
            if n == 2 { return .two }
            if (3...10).contains(n % 100) { return .few }
            if (11...99).contains(n % 100) { return .many }
            return .other
        case "fr":
            if n == 0 || n == 1 { return .one }
            if n != 0, n % 1_000_000 == 0 { return .many }
            return .other
        default:
            return n == 1 ? .one : .other
        }
    }

    static func language(of locale: String) -> String {
        String(locale.prefix { $0 != "-" && $0 != "_" }).lowercased()
    }
}
