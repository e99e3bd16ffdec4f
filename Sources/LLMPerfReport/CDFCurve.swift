import LLMPerfCore

/// The empirical CDF of one metric in one run, reduced to at most `maximumPoints` points for
/// a chart. The metric's samples are those `RunSummary` counts (measured, successful
/// requests; every gap for `itl`). Above `maximumSorted` samples an evenly strided subset
/// (every k-th sample in request order) is sorted instead of all of them, which keeps a
/// 100,000-request run with millions of gaps fast; `sampledCount` says how many were used.
struct CDFCurve {
    static let maximumPoints = 500
    static let maximumSorted = 200_000

    /// (value, cumulative fraction) pairs, ascending.
    var points: [(x: Double, y: Double)]
    var totalCount: Int
    var sampledCount: Int
    /// Value at the 0.1% and 99.9% quantiles of the sorted sample: a chart's x range.
    var lowQuantile: Double
    var highQuantile: Double

    init?(metric: Metric, traces: [RequestTrace]) {
        guard let curve = CDFCurve.curves([metric], traces: traces)[metric] else { return nil }
        self = curve
    }

    /// `sample` ascending and not empty; `total`: how many values it was drawn from.
    init(sorted sample: [Double], total: Int) {
        let n = sample.count
        totalCount = total
        sampledCount = n
        lowQuantile = Quantile.of(sorted: sample, 0.001)
        highQuantile = Quantile.of(sorted: sample, 0.999)
        let m = Swift.min(n, CDFCurve.maximumPoints)
        var points: [(x: Double, y: Double)] = []
        points.reserveCapacity(m + 1)
        points.append((sample[0], 0))
        for k in 0..<m {
            let i = m == 1 ? n - 1 : Int((Double(k) * Double(n - 1) / Double(m - 1)).rounded())
            points.append((sample[i], Double(i + 1) / Double(n)))
        }
        self.points = points
    }

    /// The curves of several metrics of one run, in one pass over its traces (reading each
    /// trace in place: copying 100,000 traces costs more than the statistics).
    static func curves(_ metrics: [Metric], traces: [RequestTrace]) -> [Metric: CDFCurve] {
        let perRequest = metrics.filter { $0 != .itl }
        let wantsGaps = metrics.contains(.itl)
        var values = [[Double]](repeating: [], count: perRequest.count)
        for k in values.indices { values[k].reserveCapacity(traces.count) }
        var gapTotal = 0
        if wantsGaps {
            for i in traces.indices where !traces[i].isWarmup && traces[i].outcome == .ok {
                gapTotal += Swift.max(0, traces[i].chunkAtNanos.count - 1)
            }
        }
        let gapStride = Swift.max(1, (gapTotal + maximumSorted - 1) / maximumSorted)
        var gaps: [Double] = []
        gaps.reserveCapacity(gapTotal / gapStride + 1)
        var position = 0
        for i in traces.indices where !traces[i].isWarmup && traces[i].outcome == .ok {
            for (k, metric) in perRequest.enumerated() {
                if let value = metric.value(of: traces[i]) { values[k].append(value) }
            }
            guard wantsGaps else { continue }
            let count = traces[i].chunkAtNanos.count - 1
            guard count > 0 else { continue }
            // at least one multiple of the stride in [position, position + count)
            let next = (position + gapStride - 1) / gapStride * gapStride
            if next < position + count {
                let samples = Metric.itl.samples(of: traces[i])
                var j = next - position
                while j < samples.count {
                    gaps.append(samples[j])
                    j += gapStride
                }
            }
            position += count
        }
        var out: [Metric: CDFCurve] = [:]
        for (k, metric) in perRequest.enumerated() where !values[k].isEmpty {
            var sample = values[k]
            let total = sample.count
            if total > maximumSorted {
                let stride = (total + maximumSorted - 1) / maximumSorted
                sample = Swift.stride(from: 0, to: total, by: stride).map { values[k][$0] }
            }
            sample.sort()
            out[metric] = CDFCurve(sorted: sample, total: total)
        }
        if wantsGaps && !gaps.isEmpty {
            gaps.sort()
            out[.itl] = CDFCurve(sorted: gaps, total: gapTotal)
        }
        return out
    }

    /// The curve cut at `limit` on the value axis (the rest is off the chart).
    func clipped(to limit: Double) -> [(x: Double, y: Double)] {
        var out: [(x: Double, y: Double)] = []
        out.reserveCapacity(points.count)
        for point in points {
            if point.x > limit {
                if let last = out.last { out.append((limit, last.y)) }
                break
            }
            out.append(point)
        }
        return out
    }
}
