import Foundation

/// Phone numbers in E.164 (`+212661234567`), from what providers send: national forms with a
/// trunk 0 (`0661234567` in Morocco), `00` international prefixes, spaces and dashes, and
/// international numbers written without their `+` (`212680980068`).
public enum PhoneNumber {
    /// Calling code and national significant number lengths for the countries Herald serves
    /// and their usual neighbours. `trunk` is the national prefix dropped in E.164.
    struct Country {
        let code: String
        let callingCode: String
        let lengths: ClosedRange<Int>
        let trunk: String?
        /// The zone most of the country's numbers live in (for quiet hours).
        var timeZone: String = "UTC"
    }

    static let countries: [Country] = [
        Country(code: "MA", callingCode: "212", lengths: 9...9, trunk: "0", timeZone: "Africa/Casablanca"),
        Country(code: "LB", callingCode: "961", lengths: 7...8, trunk: "0", timeZone: "Asia/Beirut"),
        Country(code: "KW", callingCode: "965", lengths: 8...8, trunk: nil, timeZone: "Asia/Kuwait"),
        Country(code: "MR", callingCode: "222", lengths: 8...8, trunk: nil, timeZone: "Africa/Nouakchott"),
        Country(code: "FR", callingCode: "33", lengths: 9...9, trunk: "0", timeZone: "Europe/Paris"),
        Country(code: "DZ", callingCode: "213", lengths: 8...9, trunk: "0", timeZone: "Africa/Algiers"),
        Country(code: "TN", callingCode: "216", lengths: 8...8, trunk: nil, timeZone: "Africa/Tunis"),
        Country(code: "SN", callingCode: "221", lengths: 9...9, trunk: nil, timeZone: "Africa/Dakar"),
        Country(code: "SA", callingCode: "966", lengths: 8...9, trunk: "0", timeZone: "Asia/Riyadh"),
        Country(code: "AE", callingCode: "971", lengths: 8...9, trunk: "0", timeZone: "Asia/Dubai"),
        Country(code: "QA", callingCode: "974", lengths: 8...8, trunk: nil, timeZone: "Asia/Qatar"),
        Country(code: "BH", callingCode: "973", lengths: 8...8, trunk: nil, timeZone: "Asia/Bahrain"),
        Country(code: "OM", callingCode: "968", lengths: 8...8, trunk: nil, timeZone: "Asia/Muscat"),
        Country(code: "JO", callingCode: "962", lengths: 8...9, trunk: "0", timeZone: "Asia/Amman"),
        Country(code: "EG", callingCode: "20", lengths: 9...10, trunk: "0", timeZone: "Africa/Cairo"),
        Country(code: "ES", callingCode: "34", lengths: 9...9, trunk: nil, timeZone: "Europe/Madrid"),
        Country(code: "BE", callingCode: "32", lengths: 8...9, trunk: "0", timeZone: "Europe/Brussels"),
        Country(code: "GB", callingCode: "44", lengths: 9...10, trunk: "0", timeZone: "Europe/London"),
        Country(code: "US", callingCode: "1", lengths: 10...10, trunk: nil, timeZone: "America/New_York"),
    ]

    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case empty
        case invalidCharacters
        case unknownCountry(String?)
        case wrongLength(String)

        public var description: String {
            switch self {
            case .empty: return "no phone number"
            case .invalidCharacters: return "the phone number has characters other than digits, spaces, dashes, dots and brackets"
            case .unknownCountry(let country):
                return country.map { "cannot tell the country of the phone number (default country \($0) is not supported)" }
                    ?? "the phone number has no country code and no default country is set"
            case .wrongLength(let country): return "the phone number has the wrong number of digits for \(country)"
            }
        }
    }

    /// The E.164 form of `raw`, reading national numbers in `defaultCountry` (ISO code such as `MA`).
    public static func normalize(_ raw: String, defaultCountry: String?) -> Result<String, Problem> {
        // Fast path: already E.164 with a known calling code.
        let utf8 = raw.utf8
        if utf8.first == UInt8(ascii: "+"), utf8.count >= 8, utf8.count <= 16,
            utf8.dropFirst().allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), country(of: raw) != nil
        {
            return .success(raw)
        }
        var text = Substring(raw.trimmingCharacters(in: [" ", "\t", "\n"]))
        guard !text.isEmpty else { return .failure(.empty) }
        var international = false
        if text.hasPrefix("+") {
            international = true
            text = text.dropFirst()
        }
        var digits = ""
        for character in text {
            if let d = character.wholeNumberValue, character.isASCII {
                digits.append(String(d))
            } else if " -.()/\u{00A0}".contains(character) {
                continue
            } else {
                return .failure(.invalidCharacters)
            }
        }
        guard !digits.isEmpty else { return .failure(.empty) }
        if !international, digits.hasPrefix("00") {
            international = true
            digits.removeFirst(2)
        }
        if international { return withCallingCode(digits) }
        let home = defaultCountry.flatMap { code in countries.first { $0.code == code.uppercased() } }
        if let home {
            var national = Substring(digits)
            if let trunk = home.trunk, national.hasPrefix(trunk) { national = national.dropFirst(trunk.count) }
            if home.lengths.contains(national.count) { return .success("+\(home.callingCode)\(national)") }
        }
        // Longer than a national number: an international number written without its "+".
        if case .success(let number) = withCallingCode(digits) { return .success(number) }
        guard let home else { return .failure(.unknownCountry(defaultCountry)) }
        return .failure(.wrongLength(home.code))
    }

    static func withCallingCode(_ digits: String) -> Result<String, Problem> {
        for country in countries where digits.hasPrefix(country.callingCode) {
            var national = digits.dropFirst(country.callingCode.count)
            // "+212 (0)6…" style: a trunk 0 kept after the calling code.
            if let trunk = country.trunk, national.hasPrefix(trunk), !country.lengths.contains(national.count) {
                national = national.dropFirst(trunk.count)
            }
            if country.lengths.contains(national.count) { return .success("+\(country.callingCode)\(national)") }
        }
        guard (8...15).contains(digits.count) else { return .failure(.unknownCountry(nil)) }
        return .success("+" + digits)  // a country not in the table: trust the sender's digits
    }

    /// The time zone of an E.164 number's country, when known.
    public static func timeZone(of e164: String) -> TimeZone? {
        guard let code = country(of: e164), let entry = countries.first(where: { $0.code == code }) else { return nil }
        return TimeZone(identifier: entry.timeZone)
    }

    /// The ISO country of an E.164 number, when its calling code is known.
    public static func country(of e164: String) -> String? {
        guard e164.hasPrefix("+") else { return nil }
        let digits = e164.dropFirst()
        return countries.first { digits.hasPrefix($0.callingCode) && $0.lengths.contains(digits.count - $0.callingCode.count) }?.code
    }
}
