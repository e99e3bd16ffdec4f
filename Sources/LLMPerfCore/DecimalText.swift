/// The one number-to-text rule of the profiler side: locale-free, rounded to a fixed number of
/// fraction digits, trailing zeros and point trimmed, `-0` as `0` (`12.5`, `0`, `-3.25`, `500`).
/// Rule text (`ttft.p95 <= 500ms`), error messages, the report's CSV and SVG coordinates and its
/// display formats all write numbers with it. Hand-written rather than `String(format:)` because the CSV
/// and SVG writers call it once per value.
public enum DecimalText {
    private static let powers: [Double] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000]
    private static let integerPowers: [Int64] = [
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000,
    ]

    /// `value` with at most `fractionDigits` (0...8) decimals; "" when it is not finite.
    public static func trimmed(_ value: Double, fractionDigits: Int = 6) -> String {
        var out = ""
        append(value, fractionDigits: fractionDigits, to: &out)
        return out
    }

    public static func append(_ value: Double, fractionDigits: Int, to out: inout String) {
        guard value.isFinite else { return }
        let digits = Swift.min(Swift.max(fractionDigits, 0), 8)
        let scaled = (value * powers[digits]).rounded()
        guard abs(scaled) < 9.0e15 else {
            out += String(Int64(value.rounded()))
            return
        }
        var units = Int64(scaled)
        if units == 0 {
            out += "0"
            return
        }
        if units < 0 {
            out += "-"
            units = -units
        }
        let scale = integerPowers[digits]
        out += String(units / scale)
        var fraction = units % scale
        guard fraction != 0 else { return }
        var width = digits
        while fraction % 10 == 0 {
            fraction /= 10
            width -= 1
        }
        out += "."
        let text = String(fraction)
        if text.utf8.count < width { out += String(repeating: "0", count: width - text.utf8.count) }
        out += text
    }
}
