import Foundation

/// A wall-clock time as `run --start-at` and `kube render --start-at` take it: RFC 3339 with a zone
/// (`2026-12-06T23:00:00Z`, `2026-12-06T23:00:00.250+01:00`) or seconds since 1970 (`1796598000`,
/// `1796598000.5`).
public enum WallClockTime {
    public static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed), seconds.isFinite, seconds >= 0, trimmed.first?.isNumber == true {
            return Date(timeIntervalSince1970: seconds)
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: trimmed) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: trimmed)
    }

    /// `date` in RFC 3339, UTC, with milliseconds.
    public static func text(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }
}
