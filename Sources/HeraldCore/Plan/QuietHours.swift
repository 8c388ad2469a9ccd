import Foundation

extension RuleSet.QuietHours {
    /// When a message due at `now` may go out: nil when `now` is outside quiet hours, otherwise
    /// the end of the window, in `timeZone` (the recipient's). Messages are deferred, never dropped.
    public func deferral(at now: Date, timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.hour, .minute], from: now)
        let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        let quiet: Bool
        if from == to {
            quiet = false
        } else if from < to {
            quiet = minute >= from && minute < to  // e.g. 13:00–15:00
        } else {
            quiet = minute >= from || minute < to  // e.g. 21:30–08:30, across midnight
        }
        guard quiet else { return nil }
        let startOfDay = calendar.startOfDay(for: now)
        var end = calendar.date(byAdding: .minute, value: to, to: startOfDay)!
        if end <= now { end = calendar.date(byAdding: .day, value: 1, to: end)! }
        // Daylight-saving days: recompute the wall-clock time on the target day.
        let day = calendar.dateComponents([.year, .month, .day], from: end)
        var components = day
        components.hour = to / 60
        components.minute = to % 60
        return calendar.date(from: components) ?? end
    }
}
