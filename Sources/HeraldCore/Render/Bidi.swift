/// Keeps left-to-right values from scrambling right-to-left sentences.
///
/// In Arabic text, a reference such as `F-CSA6SFJ6EMY`, a phone number or a URL is wrapped in
/// FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE (U+2068 … U+2069), as Unicode recommends for
/// inline text of the other direction. Each isolate costs one UCS-2 unit in an SMS.
public enum Bidi {
    public static let firstStrongIsolate: Unicode.Scalar = "\u{2068}"
    public static let popDirectionalIsolate: Unicode.Scalar = "\u{2069}"

    /// Languages written right to left.
    public static func isRightToLeft(_ locale: String) -> Bool {
        ["ar", "he", "fa", "ur"].contains(PluralRules.language(of: locale))
    }

    /// `text` wrapped in isolates when it holds anything left-to-right (Latin letters, European
    /// digits, `+`, `/`), unchanged when it is empty, already isolated or wholly right-to-left.
    public static func isolate(_ text: String) -> String {
        guard !text.isEmpty, text.unicodeScalars.first != firstStrongIsolate,
            text.unicodeScalars.contains(where: isLeftToRight)
        else { return text }
        return "\u{2068}" + text + "\u{2069}"
    }

    static func isLeftToRight(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case 0x0590...0x08FF, 0xFB1D...0xFDFF, 0xFE70...0xFEFF: return false  // Hebrew, Arabic, Syriac, Thaana, NKo
        default: return scalar.properties.isAlphabetic
        }
    }
}
