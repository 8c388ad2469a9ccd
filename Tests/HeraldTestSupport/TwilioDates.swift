import Foundation

/// Dates as Twilio's API writes them (`date_created`: RFC 2822, `Sun, 10 May 2026 12:00:00 +0000`),
/// for the fakes that answer ListMessage.
public enum TwilioDates {
    public static func rfc2822(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }
}
