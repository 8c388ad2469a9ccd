/// How an SMS will travel: GSM-7 (160 septets, or parts of 153) or UCS-2 (70 UTF-16 units, or parts of 67).
///
/// One character outside GSM 03.38 turns the whole message into UCS-2; extension-table
/// characters (`^ { } \ [ ~ ] | €` and form feed) cost two GSM-7 septets. A concatenated message
/// is split the way a handset splits it: an escape and its character, or a UTF-16 surrogate pair
/// (an emoji), never straddle two parts, so such a part carries 152 septets or 66 units.
public struct SMSEncoding: Sendable, Equatable {
    public enum Alphabet: String, Sendable {
        case gsm7 = "GSM-7"
        case ucs2 = "UCS-2"
    }

    public var alphabet: Alphabet
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    public var units: Int
    public var segments: Int
    /// For UCS-2 counted by `explained(_:)`, the characters outside GSM-7 that force it, as the
    /// reader sees them (grapheme clusters: `é` written as `e` + U+0301 is one), distinct, first
    /// seen first, at most `ucs2BecauseLimit`. Empty for GSM-7 and after `of(_:)`.
    public var ucs2Because: [Character]
    /// How many more distinct characters outside GSM-7 the text holds than `ucs2Because` lists
    /// (an Arabic message would otherwise list its whole alphabet).
    public var ucs2BecauseMore: Int

    /// At most this many characters are named in `ucs2Because`.
    public static let ucs2BecauseLimit = 10

    public init(
        alphabet: Alphabet, units: Int, segments: Int, ucs2Because: [Character] = [], ucs2BecauseMore: Int = 0
    ) {
        self.alphabet = alphabet
        self.units = units
        self.segments = segments
        self.ucs2Because = ucs2Because
        self.ucs2BecauseMore = ucs2BecauseMore
    }

    /// Counts `text` as a handset and an SMS centre would.
    ///
    /// One pass over the Unicode scalars (the part after the first character outside GSM-7 is
    /// counted in UTF-16 units); nothing is allocated per character.
    public static func of(_ text: String) -> SMSEncoding { count(text, explain: false) }

    /// `of(text)` plus, for UCS-2, the characters that force it (`ucs2Because`): for dry-run and
    /// operators. Kept apart from `of`, which every rendered message pays for: with the naming in
    /// the render path, bench/core's renders measured 8.4 % slower (2026-11-29).
    public static func explained(_ text: String) -> SMSEncoding { count(text, explain: true) }

    static func count(_ text: String, explain: Bool) -> SMSEncoding {
        var septets = 0
        var parts = PartFill(capacity: 153)
        var gsmScalars = 0
        for scalar in text.unicodeScalars {
            let cost = septetCost(scalar)
            if cost == 0 { return ucs2(text, gsmScalarsBefore: gsmScalars, explain: explain) }
            septets += cost
            parts.add(cost)
            gsmScalars += 1
        }
        return SMSEncoding(alphabet: .gsm7, units: septets, segments: septets <= 160 ? 1 : parts.count)
    }

    /// The UCS-2 count of `text`, whose first `gsmScalarsBefore` scalars are GSM-7 (so one
    /// UTF-16 unit each) and the next one is not.
    static func ucs2(_ text: String, gsmScalarsBefore: Int, explain: Bool) -> SMSEncoding {
        let scalars = text.unicodeScalars
        let first = scalars.index(scalars.startIndex, offsetBy: gsmScalarsBefore)
        var units = gsmScalarsBefore
        var parts = PartFill(capacity: 67, filledWithSingles: gsmScalarsBefore)
        guard explain else {
            for scalar in scalars[first...] {
                let cost = scalar.value > 0xFFFF ? 2 : 1  // a surrogate pair
                units += cost
                parts.add(cost)
            }
            return SMSEncoding(alphabet: .ucs2, units: units, segments: units <= 70 ? 1 : parts.count)
        }
        var utf8Offset = 0  // from `first` to the scalar being read
        var because: [Character] = []
        var more = 0
        // Scalars outside GSM-7 met so far: a bit per scalar up to U+20FF (Latin, Greek, Cyrillic,
        // Hebrew, Arabic, punctuation) on the stack, a set for the rest (emoji, CJK, …).
        var seenAbove = Set<UInt32>()
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 0x2100 / 64) { seenBelow in
            seenBelow.initialize(repeating: 0)
            var previous = UInt32.max
            for scalar in scalars[first...] {
                let value = scalar.value
                let cost = value > 0xFFFF ? 2 : 1  // a surrogate pair
                units += cost
                parts.add(cost)
                if value != previous, septetCost(scalar) == 0 {
                    let firstSeen: Bool
                    if value < 0x2100 {
                        let (word, bit) = (Int(value >> 6), UInt64(1) << (value & 63))
                        firstSeen = seenBelow[word] & bit == 0
                        seenBelow[word] |= bit
                    } else {
                        firstSeen = seenAbove.insert(value).inserted
                    }
                    // A combining accent (`ê` and `ô` typed as `e`/`o` + U+0302) may be seen again
                    // in a new character.
                    let mark = (0x300...0x36F).contains(value)
                    if firstSeen || mark, because.count < ucs2BecauseLimit {
                        // Name the whole character: `é` written as `e` + U+0301, `👍🏽`.
                        let index = text.utf8.index(first, offsetBy: utf8Offset)
                        let character = text[text.index(before: text.index(after: index))]
                        // A new scalar alone is a new character; a cluster may repeat a listed one.
                        if (firstSeen && character.unicodeScalars.count == 1) || !because.contains(character) {
                            if because.isEmpty { because.reserveCapacity(ucs2BecauseLimit) }
                            because.append(character)
                        }
                    } else if firstSeen {
                        more += 1
                    }
                }
                previous = value
                utf8Offset += value < 0x80 ? 1 : value < 0x800 ? 2 : value < 0x10000 ? 3 : 4
            }
        }
        return SMSEncoding(
            alphabet: .ucs2, units: units, segments: units <= 70 ? 1 : parts.count, ucs2Because: because,
            ucs2BecauseMore: more)
    }

    /// Whether every character of `text` is in GSM-7.
    public static func fitsGSM7(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { septetCost($0) != 0 }
    }

    /// The parts of a concatenated SMS, filled greedily: an item (one or two units) that does not
    /// fit whole in the part being filled starts the next one.
    struct PartFill {
        let capacity: Int
        private(set) var count = 1
        private var used = 0

        init(capacity: Int) {
            self.capacity = capacity
        }

        /// The state after `singles` one-unit items.
        init(capacity: Int, filledWithSingles singles: Int) {
            self.capacity = capacity
            if singles > 0 {
                count = (singles + capacity - 1) / capacity
                used = singles - (count - 1) * capacity
            }
        }

        @inline(__always)
        mutating func add(_ cost: Int) {
            if used + cost > capacity {
                count += 1
                used = cost
            } else {
                used += cost
            }
        }
    }

    /// Septets a character costs in GSM-7: 1 (basic set), 2 (extension table), 0 (not in GSM-7).
    @inline(__always)
    static func septetCost(_ scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        if value < 0x100 { return Int(latinCosts[Int(value)]) }
        switch value {
        case 0x20AC: return 2  // €
        case 0x393, 0x394, 0x398, 0x39B, 0x39E, 0x3A0, 0x3A3, 0x3A6, 0x3A8, 0x3A9: return 1  // ΓΔΘΛΞΠΣΦΨΩ
        default: return 0
        }
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
        guard !fitsGSM7(text), text.unicodeScalars.contains(where: { replacements[$0] != nil }) else {
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
        return fitsGSM7(replaced) ? replaced : nil
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
