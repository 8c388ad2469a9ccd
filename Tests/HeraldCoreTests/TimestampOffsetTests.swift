import Foundation
import Testing

@testable import HeraldCore

@Suite("Timestamps with an offset")
struct TimestampOffsetTests {
    /// The arithmetic path gives the instant a Gregorian calendar gives, for every offset a
    /// provider sends, across leap years, month ends and a leap second.
    @Test(arguments: ["+01:00", "-05:30", "Z", "+14:00", "-12:00", "+0545"])
    func anOffsetTimestampIsTheCalendarsInstant(offset: String) throws {
        let utc = TimeZone(identifier: "UTC")!
        var calendar = Calendar(identifier: .gregorian)
        let seconds = offset == "Z" ? 0 : try #require(Self.offsetSeconds(offset))
        calendar.timeZone = TimeZone(secondsFromGMT: seconds)!
        let cases = [
            (1900, 2, 28, 23, 59, 59), (1970, 1, 1, 0, 0, 0), (2000, 2, 29, 12, 0, 0), (2024, 2, 29, 8, 30, 0),
            (2026, 5, 10, 10, 0, 0), (2026, 12, 31, 23, 59, 60), (2100, 3, 1, 0, 0, 1), (9999, 12, 31, 23, 59, 59),
        ]
        for (year, month, day, hour, minute, second) in cases {
            let text =
                String(format: "%04d-%02d-%02dT%02d:%02d:%02d.250", year, month, day, hour, minute, second) + offset
            let components = DateComponents(
                year: year, month: month, day: day, hour: hour, minute: minute, second: second)
            let expected = try #require(calendar.date(from: components)).addingTimeInterval(0.25)
            #expect(Timestamp.parse(text, defaultTimeZone: utc) == expected, "\(text)")
        }
        #expect(Timestamp.parse("2026-02-29T10:00:00" + offset, defaultTimeZone: utc) == nil)
        #expect(Timestamp.parse("2100-02-29T10:00:00" + offset, defaultTimeZone: utc) == nil)
        #expect(Timestamp.parse("2026-04-31T10:00:00" + offset, defaultTimeZone: utc) == nil)
    }

    static func offsetSeconds(_ text: String) -> Int? {
        let digits = text.dropFirst().filter(\.isNumber)
        guard digits.count == 4, let hours = Int(digits.prefix(2)), let minutes = Int(digits.suffix(2)) else {
            return nil
        }
        return (text.hasPrefix("-") ? -1 : 1) * (hours * 3600 + minutes * 60)
    }
}
