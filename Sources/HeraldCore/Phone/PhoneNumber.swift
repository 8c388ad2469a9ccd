internal import CPhoneNumber
import Foundation
import Synchronization

/// Phone numbers in E.164 (`+212661234567`), read and validated by Google's libphonenumber.
///
/// National numbers are read in the default country (`0661234567` in MA); `+` and `00` numbers in
/// their own. Digits in any script, spaces, dots, dashes, brackets and a `(0)` trunk prefix are
/// read. A number that is not valid for its country, or whose type cannot receive SMS or WhatsApp
/// (a fixed line, a toll-free number…), is a `Problem` that says so.
public enum PhoneNumber {
    /// What the message goes over: it names the service in a `Problem`'s reason.
    public enum Channel: Sendable, Equatable, CustomStringConvertible {
        case sms
        case whatsapp

        public var description: String {
            switch self {
            case .sms: return "SMS"
            case .whatsapp: return "WhatsApp"
            }
        }
    }

    /// libphonenumber's number types; only `mobile`, `fixedLineOrMobile` and `voip` receive messages.
    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        case mobile, fixedLineOrMobile, voip
        case fixedLine, tollFree, premiumRate, sharedCost, personalNumber, pager, uan, voicemail, unknown

        /// Whether SMS and WhatsApp can reach a number of this type.
        public var canReceiveMessages: Bool {
            switch self {
            case .mobile, .fixedLineOrMobile, .voip: return true
            default: return false
            }
        }

        public var description: String {
            switch self {
            case .mobile: return "mobile"
            case .fixedLineOrMobile: return "fixed line or mobile"
            case .voip: return "VoIP"
            case .fixedLine: return "fixed line"
            case .tollFree: return "toll-free number"
            case .premiumRate: return "premium-rate number"
            case .sharedCost: return "shared-cost number"
            case .personalNumber: return "personal number"
            case .pager: return "pager"
            case .uan: return "universal access number"
            case .voicemail: return "voicemail number"
            case .unknown: return "number of unknown type"
            }
        }
    }

    /// Why a phone number cannot be messaged; `description` is the reason a human reads.
    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case empty
        case letters
        case notANumber
        /// No country code, and no default country or one libphonenumber does not know.
        case unknownCountry(String?)
        /// A `+`/`00` country code that no country has.
        case unknownCountryCode
        case tooLong
        /// Not a number of that country (ISO code): wrong length, unassigned range.
        case invalid(country: String)
        case cannotReceive(Kind, Channel)

        public var description: String {
            switch self {
            case .empty: return "no phone number"
            case .letters: return "the phone number has letters in it"
            case .notANumber: return "not a phone number"
            case .unknownCountry(let country?):
                return "cannot tell the country of the phone number (unknown default country \(country))"
            case .unknownCountry(nil):
                return "cannot tell the country of the phone number (no country code, no default country)"
            case .unknownCountryCode: return "no country has the phone number's country code"
            case .tooLong: return "too many digits for a phone number"
            case .invalid(let country): return "not a valid number for \(country)"
            case .cannotReceive(let kind, let channel): return "\(kind), cannot receive \(channel)"
            }
        }
    }

    /// The E.164 form of `raw`, reading national numbers in `defaultCountry` (ISO code such as `MA`);
    /// fails when the number is not valid or its type cannot receive messages over `channel`.
    ///
    /// Results are cached: the same spelling costs one dictionary lookup after the first call.
    public static func normalize(
        _ raw: String, defaultCountry: String?, channel: Channel = .sms
    ) -> Result<String, Problem> {
        switch reading(raw, defaultCountry: defaultCountry) {
        case .number(let e164, _, let kind):
            return kind.canReceiveMessages ? .success(e164) : .failure(.cannotReceive(kind, channel))
        case .problem(let problem):
            return .failure(problem)
        }
    }

    /// The ISO region of a valid E.164 number (`+9613123456` → `LB`), whatever its type.
    public static func country(of e164: String) -> String? {
        guard case .number(_, let region, _) = reading(e164, defaultCountry: nil) else { return nil }
        return region
    }

    /// The time zone of an E.164 number's country, when the country has exactly one (ICU's
    /// canonical zones for the region); nil for countries spanning several zones (US, ES).
    public static func timeZone(of e164: String) -> TimeZone? {
        guard let region = country(of: e164) else { return nil }
        if let known = zones.withLock({ $0[region] }) { return known }
        var buffer = [UInt8](repeating: 0, count: 64)
        let length = buffer.withUnsafeMutableBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { herald_phone_region_time_zone(region, $0.baseAddress, $0.count) }
        }
        let zone = length == 0 ? nil : TimeZone(identifier: String(decoding: buffer.prefix(length), as: UTF8.self))
        zones.withLock { $0[region] = .some(zone) }
        return zone
    }

    // MARK: - Reading through libphonenumber

    enum Reading: Sendable, Equatable {
        case number(e164: String, region: String, kind: Kind)
        case problem(Problem)
    }

    struct ReadingKey: Hashable, Sendable {
        var raw: String
        var defaultCountry: String?
    }

    /// Readings by spelling and default country. libphonenumber validates with ICU regular
    /// expressions (about 15 µs for an E.164 number, 30 µs for a national one); a customer's
    /// number recurs across an order's events. Emptied when full, so memory stays bounded.
    private static let readings = Mutex<[ReadingKey: Reading]>([:])
    private static let readingsLimit = 4096
    /// Time zones by region; at most one entry per region.
    private static let zones = Mutex<[String: TimeZone?]>([:])

    static func reading(_ raw: String, defaultCountry: String?) -> Reading {
        let key = ReadingKey(raw: raw, defaultCountry: defaultCountry)
        if let cached = readings.withLock({ $0[key] }) { return cached }
        let reading = read(raw, defaultCountry: defaultCountry)
        readings.withLock { cache in
            if cache.count >= readingsLimit { cache.removeAll(keepingCapacity: true) }
            cache[key] = reading
        }
        return reading
    }

    private static func read(_ raw: String, defaultCountry: String?) -> Reading {
        if raw.unicodeScalars.allSatisfy(\.properties.isWhitespace) { return .problem(.empty) }
        // libphonenumber reads letters as keypad digits (1-800-FLOWERS); no customer writes those.
        if raw.unicodeScalars.contains(where: \.properties.isAlphabetic) { return .problem(.letters) }
        var result = HeraldPhoneResult()
        var text = raw
        text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                herald_phone_parse(chars.baseAddress, chars.count, defaultCountry, &result)
            }
        }
        let region = withUnsafeBytes(of: result.region) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        switch result.status {
        case HeraldPhoneStatusValid:
            let e164 = withUnsafeBytes(of: result.e164) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            return .number(e164: e164, region: region, kind: Kind(result.type))
        case HeraldPhoneStatusNotANumber: return .problem(.notANumber)
        case HeraldPhoneStatusTooLong: return .problem(.tooLong)
        case HeraldPhoneStatusInvalid: return .problem(.invalid(country: region))
        case HeraldPhoneStatusUnknownCountryCode: return .problem(.unknownCountryCode)
        default: return .problem(.unknownCountry(defaultCountry))
        }
    }
}

extension PhoneNumber.Kind {
    init(_ type: HeraldPhoneType) {
        switch type {
        case HeraldPhoneTypeMobile: self = .mobile
        case HeraldPhoneTypeFixedLineOrMobile: self = .fixedLineOrMobile
        case HeraldPhoneTypeVoIP: self = .voip
        case HeraldPhoneTypeFixedLine: self = .fixedLine
        case HeraldPhoneTypeTollFree: self = .tollFree
        case HeraldPhoneTypePremiumRate: self = .premiumRate
        case HeraldPhoneTypeSharedCost: self = .sharedCost
        case HeraldPhoneTypePersonalNumber: self = .personalNumber
        case HeraldPhoneTypePager: self = .pager
        case HeraldPhoneTypeUAN: self = .uan
        case HeraldPhoneTypeVoicemail: self = .voicemail
        default: self = .unknown
        }
    }
}
