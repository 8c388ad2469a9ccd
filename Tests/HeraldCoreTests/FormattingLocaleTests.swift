import Foundation
import HeraldCore
import Testing

/// Amounts and counts in the most specific locale ICU has data for: a regional French or English
/// that CLDR does not have (fr-KW, fr-LB, en-MA) formats as its language, never as the root locale.
@Suite("Formatting locales")
struct FormattingLocaleTests {
    @Test(
        "which locales ICU has data for",
        arguments: [
            ("fr-MA", "fr-MA"), ("ar-MA", "ar-MA"), ("ar-KW", "ar-KW"), ("ar-LB", "ar-LB"), ("ar-MR", "ar-MR"),
            ("fr-MR", "fr-MR"), ("fr-KW", "fr"), ("fr-LB", "fr"), ("fr-SA", "fr"), ("fr-AE", "fr"), ("en-MA", "en"),
            ("en-KW", "en"), ("en-LB", "en"), ("fr", "fr"), ("ar", "ar"),
        ])
    func resolution(asked: String, used: String) {
        #expect(FormattingLocale.resolve(asked) == used)
    }

    /// Every shipped currency (MAD, KWD, LBP, USD, MRU) in ar, fr and en, in a region CLDR has
    /// and in one it does not. Expected values are CLDR's for the locale in the second column.
    @Test(
        "amounts in every locale",
        arguments: [
            // Morocco: fr-MA and ar-MA exist; en-MA does not (CLDR en: MAD 1,799.00).
            (Amount(value: 1799, currency: "MAD"), "fr-MA", "1.799,00 MAD"),
            (Amount(value: 1799, currency: "MAD"), "ar-MA", "\u{200F}1.799,00 د.م.\u{200F}"),
            (Amount(value: 1799, currency: "MAD"), "en-MA", "MAD 1,799.00"),
            // Kuwait: ar-KW exists; fr-KW and en-KW do not (CLDR fr: 3,125 KWD; en: KWD 3.125).
            (Amount(value: Decimal(string: "3.125")!, currency: "KWD"), "ar-KW", "\u{200F}٣٫١٢٥ د.ك.\u{200F}"),
            (Amount(value: Decimal(string: "3.125")!, currency: "KWD"), "fr-KW", "3,125 KWD"),
            (Amount(value: Decimal(string: "3.125")!, currency: "KWD"), "en-KW", "KWD 3.125"),
            // Lebanon: ar-LB exists; fr-LB and en-LB do not (CLDR fr: 25,00 $US, 150 000 £LB).
            (Amount(value: 150_000, currency: "LBP"), "ar-LB", "\u{200F}١٥٠٬٠٠٠ ل.ل.\u{200F}"),
            (Amount(value: 150_000, currency: "LBP"), "fr-LB", "150 000 £LB"),
            (Amount(value: 150_000, currency: "LBP"), "en-LB", "LBP 150,000"),
            (Amount(value: 25, currency: "USD"), "fr-LB", "25,00 $US"),
            (Amount(value: 25, currency: "USD"), "en-LB", "$25.00"),
            (Amount(value: 25, currency: "USD"), "ar-LB", "\u{200F}٢٥٫٠٠ US$"),
            // Mauritania: ar-MR and fr-MR exist; en-MR does not.
            (Amount(value: 121_000, unit: .minor, currency: "MRU"), "fr-MR", "1 210,00 UM"),
            (Amount(value: 121_000, unit: .minor, currency: "MRU"), "ar-MR", "\u{200F}١٬٢١٠٫٠٠ أ.م."),
            (Amount(value: 121_000, unit: .minor, currency: "MRU"), "en-MR", "MRU 1,210.00"),
        ])
    func amounts(amount: Amount, locale: String, expected: String) {
        #expect(Formatters().amount(amount, locale: locale) == expected)
    }

    @Test func countsUseTheLanguagesGrouping() {
        // Root-locale grouping would print 1,000,000 to a French reader in Kuwait.
        #expect(Formatters().integer(1_000_000, locale: "fr-KW") == "1 000 000")
        #expect(Formatters().integer(1_000_000, locale: "en-MA") == "1,000,000")
    }
}
