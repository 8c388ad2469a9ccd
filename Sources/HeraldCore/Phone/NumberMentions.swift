/// Finds a phone number in stored text however it was written: `+212661234567`, `212661234567`,
/// `00212661234567`, `0661234567`, `066-123 4567`. A phone-like run of digits (separators
/// allowed between them) mentions the number when its digits contain the E.164's, or when it
/// reads as the number in the number's own country or in the default country (as the rules read
/// recipients). A longer run that holds the digits (an id) counts too: erasing too much is the
/// safe side.
public struct NumberMentions: Sendable {
    public let e164: String
    private let countries: [String?]
    private let digits: String
    private let tail: String

    public init(e164: String, defaultCountry: String?) {
        self.e164 = e164
        let own = PhoneNumber.country(of: e164)
        countries = own == nil || own == defaultCountry ? [defaultCountry] : [own, defaultCountry]
        digits = e164.filter(\.isNumber)
        tail = String(digits.suffix(6))
    }

    /// Whether `text` holds the number in any spelling.
    public func found(in text: String) -> Bool {
        guard text.contains(where: \.isNumber) else { return false }
        for match in text.matches(of: /\+?[0-9](?:[ \-.()\/]{0,2}[0-9]){5,}/) {
            let run = String(text[match.range])
            let runDigits = run.filter(\.isNumber)
            guard runDigits.contains(tail) else { continue }
            if runDigits.contains(digits) { return true }
            for country in countries {
                if case .success(let number) = PhoneNumber.normalize(run, defaultCountry: country), number == e164 {
                    return true
                }
            }
        }
        return false
    }

    /// The same for stored bytes (a webhook's raw body), read as UTF-8.
    public func found(in bytes: [UInt8]) -> Bool {
        found(in: String(decoding: bytes, as: UTF8.self))
    }
}
