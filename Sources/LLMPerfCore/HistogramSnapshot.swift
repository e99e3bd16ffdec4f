import Foundation

/// One bucket of a Prometheus histogram: how many observations were at most `upperBound`.
public struct HistogramBucket: Sendable, Equatable {
    public var upperBound: Double
    public var cumulativeCount: Double

    public init(upperBound: Double, cumulativeCount: Double) {
        self.upperBound = upperBound
        self.cumulativeCount = cumulativeCount
    }
}

/// A Prometheus histogram as one scrape saw it (its `_bucket`, `_sum` and `_count` series), summed
/// over the series that match, or the observations between two scrapes (`subtracting`).
///
/// Its quantiles are Prometheus's `histogram_quantile`: interpolated linearly inside a bucket, so
/// they are only as precise as the buckets are narrow. A quantile can be off by up to the width of
/// the bucket it falls in (vLLM's TTFT buckets around 100 ms are 20 to 150 ms wide).
public struct HistogramSnapshot: Sendable, Equatable {
    /// By upper bound, ascending; a complete histogram ends with the `+Inf` bucket.
    public var buckets: [HistogramBucket]
    public var sum: Double
    public var count: Double

    public init(buckets: [HistogramBucket], sum: Double, count: Double) {
        self.buckets = buckets
        self.sum = sum
        self.count = count
    }

    /// The histogram `name` (the family's name, without `_bucket`) summed over every series whose
    /// labels include all of `labels` (the `le` label aside): vLLM labels its histograms by
    /// `model_name` and `engine`, and their sum is the server's. Buckets are summed by upper bound.
    /// `count` is the summed `_count` (the `+Inf` bucket's count when there is no `_count`), `sum`
    /// the summed `_sum` (0 when there is none). Nil when no bucket matches.
    public static func from(
        samples: [MetricSample], name: String, matching labels: [MetricLabel] = []
    ) -> HistogramSnapshot? {
        let bucketName = name + "_bucket"
        let sumName = name + "_sum"
        let countName = name + "_count"
        var counts: [Double: Double] = [:]
        var sum = 0.0
        var count: Double?
        for sample in samples
        where sample.name == bucketName || sample.name == sumName || sample.name == countName {
            guard labels.allSatisfy({ $0.name == "le" || sample.label($0.name) == $0.value }) else { continue }
            switch sample.name {
            case bucketName:
                guard let text = sample.label("le"), let bound = PrometheusScanner.number(text), !bound.isNaN
                else { continue }
                counts[bound, default: 0] += sample.value
            case sumName:
                sum += sample.value
            default:
                count = (count ?? 0) + sample.value
            }
        }
        guard !counts.isEmpty else { return nil }
        let buckets = counts.map { HistogramBucket(upperBound: $0.key, cumulativeCount: $0.value) }
            .sorted { $0.upperBound < $1.upperBound }
        let total = count ?? (buckets.last?.upperBound == .infinity ? buckets.last?.cumulativeCount ?? 0 : 0)
        return HistogramSnapshot(buckets: buckets, sum: sum, count: total)
    }

    /// The observations made after `earlier` and up to this snapshot, bucket by bucket. When a count
    /// went down (the server restarted, a counter reset) or the buckets changed, the difference
    /// means nothing and this snapshot comes back unchanged, as Prometheus's `increase` counts from
    /// zero after a reset.
    public func subtracting(_ earlier: HistogramSnapshot) -> HistogramSnapshot {
        guard count >= earlier.count else { return self }
        var earlierCounts: [Double: Double] = [:]
        for bucket in earlier.buckets { earlierCounts[bucket.upperBound] = bucket.cumulativeCount }
        guard earlierCounts.count == earlier.buckets.count else { return self }
        var difference: [HistogramBucket] = []
        difference.reserveCapacity(buckets.count)
        for bucket in buckets {
            guard let before = earlierCounts.removeValue(forKey: bucket.upperBound),
                bucket.cumulativeCount >= before
            else { return self }
            difference.append(
                HistogramBucket(upperBound: bucket.upperBound, cumulativeCount: bucket.cumulativeCount - before))
        }
        guard earlierCounts.isEmpty else { return self }
        return HistogramSnapshot(buckets: difference, sum: sum - earlier.sum, count: count - earlier.count)
    }

    /// The `q`-quantile (0 ≤ q ≤ 1) exactly as Prometheus's `histogram_quantile` computes it from
    /// classic buckets: buckets with one upper bound merged, counts within 1e-12 of the previous
    /// one taken as equal and any decrease evened out; the rank `q × observations` found in the
    /// first bucket whose cumulative count reaches it, and interpolated linearly between that
    /// bucket's lower bound (the previous upper bound, or 0 for the first bucket when its upper
    /// bound is positive) and its upper bound. A rank in the `+Inf` bucket gives the highest finite
    /// bound; a rank in a first bucket whose upper bound is ≤ 0 gives that bound. `-Inf` for q < 0,
    /// `+Inf` for q > 1. Nil where Prometheus gives NaN: no observations, no `+Inf` bucket, fewer
    /// than two buckets, q NaN, q = 0 with an empty first bucket.
    public func quantile(_ q: Double) -> Double? {
        if q.isNaN { return nil }
        if q < 0 { return -.infinity }
        if q > 1 { return .infinity }
        let sorted = buckets.sorted { $0.upperBound < $1.upperBound }
        guard let last = sorted.last, last.upperBound == .infinity else { return nil }
        // Merge equal bounds.
        var merged: [HistogramBucket] = []
        for bucket in sorted {
            if let previous = merged.last, previous.upperBound == bucket.upperBound {
                merged[merged.count - 1].cumulativeCount += bucket.cumulativeCount
            } else {
                merged.append(bucket)
            }
        }
        // Float noise first (a count within 1e-12 of the last kept one takes its value), then the
        // envelope that removes any decrease.
        var previous = merged[0].cumulativeCount
        for index in merged.indices.dropFirst() {
            let current = merged[index].cumulativeCount
            let delta = abs(current - previous)
            if delta == 0 { continue }
            if delta / current <= 1e-12 {
                merged[index].cumulativeCount = previous
            } else {
                previous = current
            }
        }
        var highest = merged[0].cumulativeCount
        for index in merged.indices.dropFirst() {
            if merged[index].cumulativeCount > highest {
                highest = merged[index].cumulativeCount
            } else {
                merged[index].cumulativeCount = highest
            }
        }
        guard merged.count >= 2 else { return nil }
        let observations = merged[merged.count - 1].cumulativeCount
        guard observations != 0 else { return nil }
        var rank = q * observations
        let b = merged.indices.dropLast().first { merged[$0].cumulativeCount >= rank } ?? merged.count - 1
        if b == merged.count - 1 { return merged[merged.count - 2].upperBound }
        if b == 0, merged[0].upperBound <= 0 { return merged[0].upperBound }
        var start = 0.0
        let end = merged[b].upperBound
        var count = merged[b].cumulativeCount
        if b > 0 {
            start = merged[b - 1].upperBound
            count -= merged[b - 1].cumulativeCount
            rank -= merged[b - 1].cumulativeCount
        }
        // 0/0 (q = 0 with an empty first bucket) is NaN in Prometheus, and nil here.
        let value = start + (end - start) * (rank / count)
        return value.isNaN ? nil : value
    }

    /// The mean observation, `sum / count`; nil with no observations.
    public var mean: Double? { count > 0 ? sum / count : nil }
}
