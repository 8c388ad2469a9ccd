/// Herald's version: what `herald --version` prints and how Herald introduces itself to the APIs
/// it calls.
public enum HeraldVersion {
    /// Raised with each issue that changes behaviour (issue 12 → 0.12.0).
    public static let number = "0.12.0"
    /// The `User-Agent` of every outgoing request (`herald/0.12.0`).
    public static let userAgent = "herald/" + number
}
