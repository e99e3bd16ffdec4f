import Foundation
import LLMPerfCore

/// A linear axis with "nice" ticks (steps of 1, 2 or 5 × 10ⁿ) covering a data range.
struct ChartAxis {
    var lower: Double
    var upper: Double
    var ticks: [Double]
    /// Fraction digits tick labels need for the step.
    var labelDigits: Int
    /// Labels show the value × 100 with a `%` sign (for fractions).
    var percent = false
    /// Positions are proportional to log2 of the value (a load doubled at each step); values > 0.
    var logarithmic = false

    /// A base-2 logarithmic axis over `[low, high]` (both > 0), ticks at the powers of two.
    static func powersOfTwo(low: Double, high: Double) -> ChartAxis {
        let lo = Foundation.pow(2, Foundation.log2(Swift.max(low, 1e-9)).rounded(.down))
        var hi = Foundation.pow(2, Foundation.log2(Swift.max(high, 1e-9)).rounded(.up))
        if hi <= lo { hi = lo * 2 }
        var ticks: [Double] = []
        var tick = lo
        while tick <= hi * (1 + 1e-9) {
            ticks.append(tick)
            tick *= 2
        }
        let digits = lo >= 1 ? 0 : Swift.min(6, Int(-Foundation.log10(lo).rounded(.down)) + 1)
        return ChartAxis(lower: lo, upper: hi, ticks: ticks, labelDigits: digits, logarithmic: true)
    }

    /// An axis over `[low, high]` with about `count` intervals, widened to whole steps.
    static func nice(low: Double, high: Double, count: Int = 5) -> ChartAxis {
        var lo = low.isFinite ? low : 0
        var hi = high.isFinite ? high : 1
        if hi < lo { swap(&lo, &hi) }
        if hi == lo {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad
            hi += pad
            if low >= 0 { lo = Swift.max(0, lo) }
        }
        let raw = (hi - lo) / Double(Swift.max(count, 1))
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let normalized = raw / magnitude
        let factor: Double = normalized < 1.5 ? 1 : normalized < 3 ? 2 : normalized < 7 ? 5 : 10
        let step = factor * magnitude
        let first = (lo / step).rounded(.down) * step
        let last = (hi / step).rounded(.up) * step
        var ticks: [Double] = []
        var k = 0
        while true {
            let tick = first + Double(k) * step
            if tick > last + step * 1e-9 || k > 1000 { break }
            ticks.append(abs(tick) < step * 1e-9 ? 0 : tick)
            k += 1
        }
        let digits = Swift.max(0, Int(-(log10(step)).rounded(.down)))
        return ChartAxis(lower: first, upper: last, ticks: ticks, labelDigits: Swift.min(digits, 6))
    }

    /// A fixed axis with the given ticks.
    static func fixed(
        lower: Double, upper: Double, ticks: [Double], labelDigits: Int = 0, percent: Bool = false
    ) -> ChartAxis {
        ChartAxis(lower: lower, upper: upper, ticks: ticks, labelDigits: labelDigits, percent: percent)
    }

    func label(_ tick: Double) -> String {
        percent
            ? DecimalText.trimmed(tick * 100, fractionDigits: labelDigits) + "%"
            : DecimalText.trimmed(tick, fractionDigits: labelDigits)
    }

    /// Position of `value` in `[0, 1]` along the axis (not clamped).
    func fraction(_ value: Double) -> Double {
        if logarithmic {
            guard upper > lower, value > 0 else { return 0 }
            return Foundation.log2(value / lower) / Foundation.log2(upper / lower)
        }
        return upper > lower ? (value - lower) / (upper - lower) : 0
    }
}
