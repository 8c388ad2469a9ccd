import Foundation

/// The locale amounts, dates and item counts are formatted in: the language and region asked for
/// when ICU has data for that pair (`fr-MA`, `ar-KW`), else the language alone (`fr` for fr-KW,
/// `en` for en-MA).
///
/// Foundation resolves a pair ICU has no data for (fr-KW, fr-LB, en-MA) to the root locale's
/// symbols and separators: `3.125 KWD` for a French reader, `MAD 1.799,00` for an English one.
/// CLDR's parent of such a pair is the language itself, so that is what Herald formats with.
/// Which pairs exist is read from ICU (`Locale.availableIdentifiers`), not listed here.
public enum FormattingLocale {
    /// ICU's locales with data of their own, as `fr_MA`.
    static let available: Set<String> = Set(Locale.availableIdentifiers)

    /// `fr-MA` when ICU has `fr_MA`; `fr` for `fr-KW`; `fr` for `fr`.
    public static func resolve(_ identifier: String) -> String {
        let canonical = identifier.replacingOccurrences(of: "-", with: "_")
        if available.contains(canonical) { return identifier }
        let language = PluralRules.language(of: identifier)
        return available.contains(language) ? language : identifier
    }

    /// The Foundation locale for `identifier`, resolved as above. Formatters are built once per
    /// locale, so this runs once per locale, not once per message.
    static func locale(for identifier: String) -> Locale { Locale(identifier: resolve(identifier)) }
}
