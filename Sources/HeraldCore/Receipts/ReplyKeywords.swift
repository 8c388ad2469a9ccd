import Foundation

/// What a channel does with a customer's reply: its `opt_out` and `opt_in` keywords and the scope
/// of an opt-out (`opt_out`, `opt_in`, `opt_out_scope` in rules.yaml).
///
/// A reply is one of the keywords when it equals one after both are folded (`fold`): surrounding
/// spaces and punctuation trimmed, case, accents and Arabic diacritics ignored, so "Stop", " stop. ",
/// "arrêt", "ARRET" and "إلغاء"/"الغاء" match. Anything longer ("stop sending me this") is not a
/// keyword: it is kept as a reply for the operator, as the providers' own keyword handling does.
public struct ReplyKeywords: Sendable, Equatable {
    /// Which channels an opt-out reply stops.
    public enum Scope: String, Sendable, Equatable, CaseIterable {
        /// Every channel (the default): the customer asked not to be messaged.
        case all
        /// Only the channel the reply came on.
        case channel
    }

    /// What a reply asks for.
    public enum Action: String, Sendable, Equatable {
        case optOut = "opt-out"
        case optIn = "opt-in"
    }

    /// DESIGN.md's defaults: Twilio's English keywords, French ARRET, Arabic "stop" and "cancel".
    public static let defaultOptOut = [
        "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "ARRET", "ARRÊT", "توقف", "إلغاء", "الغاء",
    ]
    public static let defaultOptIn = ["START", "UNSTOP", "YES"]

    /// The keywords as written (shown by `herald check`); matched through `fold`.
    public var optOut: [String]
    public var optIn: [String]
    public var scope: Scope
    private var foldedOptOut: Set<String>
    private var foldedOptIn: Set<String>

    public init(optOut: [String] = defaultOptOut, optIn: [String] = defaultOptIn, scope: Scope = .all) {
        self.optOut = optOut
        self.optIn = optIn
        self.scope = scope
        foldedOptOut = Set(optOut.map(Self.fold).filter { !$0.isEmpty })
        foldedOptIn = Set(optIn.map(Self.fold).filter { !$0.isEmpty })
    }

    /// What `body` asks for; nil for any other reply. A word in both lists opts out (the safer
    /// reading: a wrongly kept opt-out costs a message, a wrongly lifted one a complaint).
    public func action(for body: String) -> Action? {
        let folded = Self.fold(body)
        if foldedOptOut.contains(folded) { return .optOut }
        if foldedOptIn.contains(folded) { return .optIn }
        return nil
    }

    /// A reply as keywords are compared: trimmed of spaces and punctuation, case- and width-folded
    /// by Foundation (ICU), every combining mark removed after canonical decomposition (accents, and
    /// Arabic harakat and hamza marks: "إِلغاء" reads as "الغاء"), and tatweel (ـ), which only
    /// stretches a word, dropped. The marks are removed by hand because Foundation's
    /// `.diacriticInsensitive` on Linux leaves Arabic harakat in place (a test holds it).
    public static func fold(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines.union(.punctuationCharacters))
        let folded = trimmed.folding(options: [.caseInsensitive, .widthInsensitive], locale: nil)
        var scalars = String.UnicodeScalarView()
        for scalar in folded.decomposedStringWithCanonicalMapping.unicodeScalars
        where scalar.properties.generalCategory != .nonspacingMark && scalar != "\u{0640}" {
            scalars.append(scalar)
        }
        return String(scalars).precomposedStringWithCanonicalMapping
    }

    static let keys = ["opt_out", "opt_in", "opt_out_scope"]
}
