/// How an SMS will travel: GSM-7 (160 characters, 153 per part) or UCS-2 (70, then 67 per part).
///
/// One character outside GSM 03.38 turns the whole message into UCS-2; extension-table
/// characters (`^ { } \ [ ~ ] | €` and form feed) cost two GSM-7 septets.
public struct SMSEncoding: Sendable, Equatable {
    public enum Alphabet: String, Sendable {
        case gsm7 = "GSM-7"
        case ucs2 = "UCS-2"
    }

    public var alphabet: Alphabet
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    public var units: Int
    public var segments: Int

    public init(alphabet: Alphabet, units: Int, segments: Int) {
        self.alphabet = alphabet
        self.units = units
        self.segments = segments
    }

    /// Counts `text` as a handset and an SMS centre would.
    public static func of(_ text: String) -> SMSEncoding {
        var septets = 0
        var gsm = true
        for scalar in text.unicodeScalars {
            let cost = septetCost(scalar)
            if cost == 0 {
                gsm = false
                break
            }
            septets += cost
        }
        if gsm {
            return SMSEncoding(alphabet: .gsm7, units: septets, segments: septets <= 160 ? 1 : (septets + 152) / 153)
        }
        let units = text.utf16.count
        return SMSEncoding(alphabet: .ucs2, units: units, segments: units <= 70 ? 1 : (units + 66) / 67)
    }

    /// Septets a character costs in GSM-7: 1 (basic set), 2 (extension table), 0 (not in GSM-7).
    @inline(__always)
    static func septetCost(_ scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        if value < 0x100 { return Int(latinCosts[Int(value)]) }
        if scalar == "€" { return 2 }
        return basic.contains(scalar) ? 1 : 0  // the Greek capitals of the basic set
    }

    /// Septet costs of U+0000…U+00FF, built once from the two tables.
    static let latinCosts: [UInt8] = (0..<256).map { value in
        let scalar = Unicode.Scalar(UInt8(value))
        if basic.contains(scalar) { return 1 }
        if extended.contains(scalar) { return 2 }
        return 0
    }

    /// Replaces typographic punctuation with GSM-7 equivalents when that makes the whole message
    /// GSM-7; letters are never changed. Returns nil when it would not help.
    public static func smartReplaced(_ text: String) -> String? {
        guard of(text).alphabet == .ucs2, text.unicodeScalars.contains(where: { replacements[$0] != nil }) else {
            return nil
        }
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if let replacement = replacements[scalar] {
                scalars.append(contentsOf: replacement.unicodeScalars)
            } else {
                scalars.append(scalar)
            }
        }
        let replaced = String(scalars)
        return of(replaced).alphabet == .gsm7 ? replaced : nil
    }

    static let replacements: [Unicode.Scalar: String] = [
        "\u{2018}": "'", "\u{2019}": "'", "\u{201A}": "'", "\u{201B}": "'", "\u{2032}": "'",
        "\u{201C}": "\"", "\u{201D}": "\"", "\u{201E}": "\"", "\u{00AB}": "\"", "\u{00BB}": "\"", "\u{2033}": "\"",
        "\u{2013}": "-", "\u{2014}": "-", "\u{2012}": "-", "\u{2010}": "-", "\u{2011}": "-", "\u{2212}": "-",
        "\u{2026}": "...", "\u{00A0}": " ", "\u{202F}": " ", "\u{2009}": " ", "\u{2007}": " ", "\u{200A}": " ",
        "\u{2022}": "-", "\u{00B7}": ".", "\u{2039}": "<", "\u{203A}": ">",
        // Bidi isolates and marks carry no text of their own.
        "\u{2066}": "", "\u{2067}": "", "\u{2068}": "", "\u{2069}": "", "\u{200E}": "", "\u{200F}": "",
    ]

    /// GSM 03.38 basic character set.
    static let basic: Set<Unicode.Scalar> = {
        let characters =
            "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
        return Set(characters.unicodeScalars)
    }()

    /// GSM 03.38 extension table: each costs an escape septet plus itself.
    static let extended: Set<Unicode.Scalar> = Set("^{}\\[~]|€\u{0C}".unicodeScalars)
}
