import Foundation

extension DurationParser {
    /// How the expected form of an age is described in error messages.
    public static let ageExpectation = "an age such as 7d, 12h or 30m"

    /// An age (`--since`): a duration as `parse` reads it, or a whole or decimal number of days
    /// (`7d`) or weeks (`2w`). Nil for anything else.
    public static func parseAge(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let long: [(suffix: String, nanos: Int64)] = [("d", 86_400_000_000_000), ("w", 604_800_000_000_000)]
        for unit in long where trimmed.hasSuffix(unit.suffix) {
            let number = trimmed.dropLast().trimmingCharacters(in: .whitespaces)
            return nanoseconds(decimal: number, unitNanos: unit.nanos).map { .nanoseconds($0) }
        }
        return parse(trimmed)
    }
}

/// Reads percentages given on the command line: `2%` → 0.02.
public enum PercentParser {
    /// The fraction `text` names: a non-negative number below 100 followed by `%`; nil otherwise.
    public static func fraction(_ text: String) -> Double? {
        guard text.hasSuffix("%"), let value = Double(text.dropLast()), value >= 0, value < 100 else { return nil }
        return value / 100
    }
}
