import Foundation

/// Currency codes and symbols a textual amount may carry, and the ISO codes each stands for.
///
/// Taken from ICU's locale data (what Foundation's NumberFormatter prints for the currencies of the
/// countries Herald ships for, in ar, fr and en) plus every ISO 4217 code, so the list follows CLDR.
enum CurrencySymbols {
    /// The currencies of the shipped presets and of the countries in rules.yaml's examples.
    static let currencies = [
        "MAD", "KWD", "LBP", "MRU", "USD", "EUR", "AED", "SAR", "QAR", "BHD", "OMR", "JOD", "EGP", "TND", "DZD",
    ]
    static let locales = ["ar", "fr", "en"].flatMap { language in
        [language] + ["MA", "KW", "LB", "MR", "US", "FR", "AE", "SA", "EG", "TN", "DZ"].map { "\(language)_\($0)" }
    }
    /// What people write that CLDR does not list: `DH`/`Dhs` for the Moroccan dirham (CLDR's fr-MA
    /// symbol is `MAD`, but shops and receipts in Morocco write `DH`), `LL` for the Lebanese pound.
    static let extras: [String: String] = [
        "DH": "MAD", "Dh": "MAD", "dh": "MAD", "DHS": "MAD", "Dhs": "MAD", "dhs": "MAD", "درهم": "MAD",
        "LL": "LBP", "L.L.": "LBP",
    ]

    static let table: [String: Set<String>] = {
        var table: [String: Set<String>] = [:]
        for code in Locale.Currency.isoCurrencies.map(\.identifier) { table[code, default: []].insert(code) }
        let formatter = NumberFormatter()
        formatter.numberStyle = .currency
        for locale in locales {
            formatter.locale = Locale(identifier: locale)
            for code in currencies {
                formatter.currencyCode = code
                let symbol = AmountText.cleaned(formatter.currencySymbol.unicodeScalars)
                if !symbol.isEmpty { table[symbol, default: []].insert(code) }
            }
        }
        for (symbol, code) in extras { table[symbol, default: []].insert(code) }
        return table
    }()

    /// The ISO codes `word` stands for; a trailing point is optional (`د.ك.` or `د.ك`).
    static func codes(for word: String) -> Set<String>? {
        if let codes = table[word] { return codes }
        if word.hasSuffix(".") { return table[String(word.dropLast())] }
        return table[word + "."]
    }

    static func isDirectionMark(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\u{200E}" || scalar == "\u{200F}" || scalar == "\u{061C}"
    }
}
