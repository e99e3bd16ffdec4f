import Foundation

/// Reads the durations scenarios use: a non-negative decimal number followed by a unit,
/// `ns`, `us` (or `µs`), `ms`, `s`, `m` or `h` — `250ms`, `1.5s`, `2m`. A unit is required:
/// a bare `30` is rejected rather than guessed as seconds or milliseconds.
public enum DurationParser {
    /// How the expected form is described in error messages.
    public static let expectation = "a duration such as 30s, 500ms or 2m"

    /// The duration, exact to the nanosecond (fractions below 1 ns round to nearest); nil when
    /// the text is not a duration or overflows.
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(suffix: String, nanos: Int64)] = [
            ("ns", 1), ("us", 1_000), ("µs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000),
            ("m", 60_000_000_000), ("h", 3_600_000_000_000),
        ]
        // Longest suffix first so that "ms" is not read as "m" + "s".
        for unit in units.sorted(by: { $0.suffix.count > $1.suffix.count }) where trimmed.hasSuffix(unit.suffix) {
            let number = trimmed.dropLast(unit.suffix.count).trimmingCharacters(in: .whitespaces)
            guard let nanos = nanoseconds(decimal: number, unitNanos: unit.nanos) else { return nil }
            return .nanoseconds(nanos)
        }
        return nil
    }

    /// `digits[.digits]` times `unitNanos`, computed in integers.
    static func nanoseconds(decimal: String, unitNanos: Int64) -> Int64? {
        let parts = decimal.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first else { return nil }
        let fraction = parts.count > 1 ? parts[1] : ""
        guard !(whole.isEmpty && fraction.isEmpty), whole.allSatisfy(\.isASCIIDigitForDuration),
            fraction.allSatisfy(\.isASCIIDigitForDuration), parts.count == 1 || !fraction.isEmpty
        else { return nil }
        var total: Int64 = 0
        if !whole.isEmpty {
            guard let value = Int64(whole) else { return nil }
            let (product, overflow) = value.multipliedReportingOverflow(by: unitNanos)
            guard !overflow else { return nil }
            total = product
        }
        // Fraction: take up to 18 digits, scale by the unit, round half up.
        var numerator: Int64 = 0
        var denominator: Int64 = 1
        for digit in fraction.prefix(18) {
            numerator = numerator * 10 + Int64(digit.wholeNumberValue ?? 0)
            denominator *= 10
        }
        if numerator > 0 {
            let exact = multiplyDivide(numerator, unitNanos, denominator)
            let (sum, overflow) = total.addingReportingOverflow(exact)
            guard !overflow else { return nil }
            total = sum
        }
        return total
    }

    /// round(a * b / c) for 0 ≤ a < c, computed in 128 bits (the quotient is below b).
    private static func multiplyDivide(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64 {
        let product = a.multipliedFullWidth(by: b)
        let (quotient, remainder) = c.dividingFullWidth((product.high, product.low))
        return remainder * 2 >= c ? quotient + 1 : quotient
    }
}

/// Reads request rates: `10` or `10/s` (per second), `2.5/s`, `120/m` (per minute), `3600/h`.
public enum RateParser {
    public static let expectation = "a rate such as 10/s, 2.5/s or 120/m"

    /// Requests per second, nil when the text is not a positive finite rate.
    public static func perSecond(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        var number = Substring(trimmed)
        var divisor = 1.0
        if let slash = trimmed.firstIndex(of: "/") {
            number = trimmed[..<slash]
            switch trimmed[trimmed.index(after: slash)...].trimmingCharacters(in: .whitespaces) {
            case "s": divisor = 1
            case "m": divisor = 60
            case "h": divisor = 3600
            default: return nil
            }
        }
        let digits = number.trimmingCharacters(in: .whitespaces)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCIIDigitForDuration || $0 == "." }),
            let value = Double(digits), value.isFinite, value > 0
        else { return nil }
        return value / divisor
    }
}

extension Character {
    fileprivate var isASCIIDigitForDuration: Bool { isASCII && isNumber }
}
