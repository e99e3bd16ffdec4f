import Foundation

/// Order statistics of one sample. Quantiles interpolate linearly between the closest
/// ranks (the "type 7" definition, numpy's and R's default): q(p) = x[h] + (h - ⌊h⌋)(x[h+1] - x[h])
/// with h = (n - 1)p on the sorted sample, 0-based. The mean and the sum of squared
/// deviations are correctly rounded sums (`ExactSum`), so they do not depend on the order of
/// the values: `StreamedDistributions` computes the same summary without holding the sample.
public struct DistributionSummary: Sendable, Equatable, Codable {
    public var count: Int
    public var mean: Double
    public var min: Double
    public var max: Double
    /// Sample standard deviation (n − 1 in the denominator); 0 for fewer than two values.
    public var stddev: Double
    public var p50: Double
    public var p90: Double
    public var p95: Double
    public var p99: Double

    public init?(_ values: [Double]) {
        guard !values.isEmpty else { return nil }
        self.init(sorted: values.sorted())
    }

    /// `sorted` must be in ascending order and not empty.
    public init(sorted: [Double]) {
        precondition(!sorted.isEmpty, "DistributionSummary needs at least one value")
        count = sorted.count
        mean = ExactSum(sorted).value / Double(sorted.count)
        min = sorted[0]
        max = sorted[sorted.count - 1]
        if sorted.count > 1 {
            var squares = ExactSum()
            for value in sorted {
                let deviation = value - mean
                squares.add(deviation * deviation)
            }
            stddev = (squares.value / Double(sorted.count - 1)).squareRoot()
        } else {
            stddev = 0
        }
        p50 = Quantile.of(sorted: sorted, 0.50)
        p90 = Quantile.of(sorted: sorted, 0.90)
        p95 = Quantile.of(sorted: sorted, 0.95)
        p99 = Quantile.of(sorted: sorted, 0.99)
    }

    init(
        count: Int, mean: Double, min: Double, max: Double, stddev: Double, p50: Double, p90: Double, p95: Double,
        p99: Double
    ) {
        self.count = count
        self.mean = mean
        self.min = min
        self.max = max
        self.stddev = stddev
        self.p50 = p50
        self.p90 = p90
        self.p95 = p95
        self.p99 = p99
    }

    /// The named statistic: "p50", "p90", "p95", "p99", "mean", "min", "max", "stddev".
    public func statistic(_ name: String) -> Double? {
        switch name {
        case "p50", "median": return p50
        case "p90": return p90
        case "p95": return p95
        case "p99": return p99
        case "mean", "avg": return mean
        case "min": return min
        case "max": return max
        case "stddev", "std": return stddev
        default: return nil
        }
    }

    public static let statisticNames = ["p50", "p90", "p95", "p99", "mean", "min", "max", "stddev"]
}

public enum Quantile {
    /// Linear interpolation between closest ranks on an ascending, non-empty sample.
    public static func of(sorted: [Double], _ p: Double) -> Double {
        precondition(!sorted.isEmpty)
        let position = position(count: sorted.count, p)
        return interpolate(sorted[position.lower], sorted[position.upper], position.fraction)
    }

    /// The two 0-based ranks the `p` quantile of `count` values lies between, and how far.
    public static func position(count: Int, _ p: Double) -> (lower: Int, upper: Int, fraction: Double) {
        let clamped = Swift.min(1, Swift.max(0, p))
        let h = Double(count - 1) * clamped
        let lower = Int(h.rounded(.down))
        let upper = Swift.min(lower + 1, count - 1)
        return (lower, upper, h - Double(lower))
    }

    @inline(__always) public static func interpolate(_ lower: Double, _ upper: Double, _ fraction: Double) -> Double {
        lower + fraction * (upper - lower)
    }
}
