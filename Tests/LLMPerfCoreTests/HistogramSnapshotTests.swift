import Testing

@testable import LLMPerfCore

@Suite struct HistogramSnapshotTests {
    static func histogram(_ buckets: [(Double, Double)], sum: Double = 0) -> HistogramSnapshot {
        HistogramSnapshot(
            buckets: buckets.map { HistogramBucket(upperBound: $0.0, cumulativeCount: $0.1) }, sum: sum,
            count: buckets.last?.1 ?? 0)
    }

    /// 40 observations: 10 ≤ 0.25, 20 in (0.25, 0.5], 5 in (0.5, 1], 5 above 1. By hand, as
    /// Prometheus's bucketQuantile does it: rank = q × 40, the first bucket whose cumulative count
    /// reaches the rank, then linear interpolation inside it.
    @Test func quantilesInterpolateAsPrometheusDoes() {
        let h = Self.histogram([(0.25, 10), (0.5, 30), (1, 35), (.infinity, 40)])
        // rank 20 → (0.25, 0.5]: 0.25 + 0.25 × (20 − 10) / 20
        #expect(h.quantile(0.5) == 0.375)
        // rank 5 → the first bucket, from 0: 0.25 × 5 / 10
        #expect(h.quantile(0.125) == 0.125)
        // rank 32.5 → (0.5, 1]: 0.5 + 0.5 × 2.5 / 5
        #expect(h.quantile(0.8125) == 0.75)
        // rank 35 reaches (0.5, 1] exactly: its upper bound
        #expect(h.quantile(0.875) == 1)
        // rank 38 and 40 → the +Inf bucket: the highest finite bound
        #expect(h.quantile(0.95) == 1)
        #expect(h.quantile(1) == 1)
        #expect(h.quantile(0) == 0)
    }

    @Test func aNonPositiveFirstBoundIsReturnedAsIs() {
        let h = Self.histogram([(-1, 5), (0, 5), (1, 10), (.infinity, 10)])
        // rank 2.5 in the first bucket, whose bound is ≤ 0
        #expect(h.quantile(0.25) == -1)
        // rank 7.5 → (0, 1]: 0 + 1 × 2.5 / 5
        #expect(h.quantile(0.75) == 0.5)
    }

    @Test func unsortedDuplicateAndDecreasingBucketsAreMendedFirst() {
        // Equal bounds merge: (1, 2) + (1, 3) = (1, 5); rank 2.5 → 1 × 2.5 / 5.
        #expect(Self.histogram([(.infinity, 5), (1, 2), (1, 3)]).quantile(0.5) == 0.5)
        // The count at 2 (8) is below the one at 1 (10): raised to 10, so rank 15 lands in (2, 4]
        // with 10 observations, 5 of them below the rank: 2 + 2 × 5 / 10.
        #expect(Self.histogram([(1, 10), (2, 8), (4, 20), (.infinity, 20)]).quantile(0.75) == 3)
        // A count within 1e-12 of the previous one is taken as equal: the rank just above 10 then
        // falls past (1, 2] into +Inf, and the answer is the highest finite bound (not 1.4).
        let noisy = Self.histogram([(1, 10), (2, 10.000_000_000_005), (.infinity, 20)])
        #expect(noisy.quantile(0.500_000_000_000_1) == 2)
    }

    @Test func degenerateHistogramsHaveNoQuantile() {
        #expect(Self.histogram([(1, 0), (.infinity, 0)]).quantile(0.5) == nil)
        #expect(Self.histogram([(1, 3), (2, 4)]).quantile(0.5) == nil)
        #expect(Self.histogram([(.infinity, 4)]).quantile(0.5) == nil)
        #expect(Self.histogram([]).quantile(0.5) == nil)
        #expect(Self.histogram([(1, 0), (2, 3), (.infinity, 4)]).quantile(0) == nil)
        let h = Self.histogram([(1, 3), (.infinity, 4)])
        #expect(h.quantile(.nan) == nil)
        #expect(h.quantile(-0.1) == -.infinity)
        #expect(h.quantile(1.5) == .infinity)
    }

    /// vLLM labels its histograms by model and engine: the server's histogram is their sum.
    @Test func sumsTheSeriesThatMatch() {
        let name = "vllm:e2e_request_latency_seconds"
        func series(_ model: String, _ engine: String, _ counts: [Double], sum: Double) -> [MetricSample] {
            let labels: KeyValuePairs<String, String> = ["model_name": model, "engine": engine]
            let written =
                [promSample(name + "_sum", labels, sum)]
                + zip(["0.5", "1.0", "+Inf"], counts).map { le, count in
                    MetricSample(
                        name: name + "_bucket",
                        labels: [
                            MetricLabel("le", le), MetricLabel("model_name", model), MetricLabel("engine", engine),
                        ],
                        value: count)
                }
            return written + [promSample(name + "_count", labels, counts[2])]
        }
        let samples =
            series("a", "0", [2, 3, 4], sum: 3) + series("a", "1", [1, 5, 6], sum: 5)
            + series("b", "0", [100, 100, 100], sum: 10)
            + [promSample("vllm:e2e_request_latency_seconds_bucket_other", 7)]
        let modelA = HistogramSnapshot.from(samples: samples, name: name, matching: [MetricLabel("model_name", "a")])
        #expect(
            modelA
                == HistogramSnapshot(
                    buckets: [
                        HistogramBucket(upperBound: 0.5, cumulativeCount: 3),
                        HistogramBucket(upperBound: 1, cumulativeCount: 8),
                        HistogramBucket(upperBound: .infinity, cumulativeCount: 10),
                    ], sum: 8, count: 10))
        #expect(HistogramSnapshot.from(samples: samples, name: name)?.count == 110)
        #expect(HistogramSnapshot.from(samples: samples, name: name)?.sum == 18)
        #expect(HistogramSnapshot.from(samples: samples, name: name, matching: [MetricLabel("model_name", "c")]) == nil)
        #expect(HistogramSnapshot.from(samples: samples, name: "vllm:e2e") == nil)
    }

    @Test func withoutCountSeriesTheInfBucketCounts() {
        let samples = promBuckets("h", [("1", 2), ("+Inf", 5)])
        #expect(HistogramSnapshot.from(samples: samples, name: "h") == Self.histogram([(1, 2), (.infinity, 5)]))
    }

    @Test func subtractingGivesTheObservationsInBetween() {
        let earlier = Self.histogram([(0.5, 3), (1, 8), (.infinity, 10)], sum: 8)
        let later = Self.histogram([(0.5, 5), (1, 12), (.infinity, 20)], sum: 20)
        #expect(later.subtracting(earlier) == Self.histogram([(0.5, 2), (1, 4), (.infinity, 10)], sum: 12))
        #expect(later.subtracting(earlier).mean == 1.2)
        #expect(later.subtracting(later) == Self.histogram([(0.5, 0), (1, 0), (.infinity, 0)]))
        #expect(later.subtracting(later).mean == nil)
    }

    @Test func aResetOrAChangedLayoutGivesTheLaterSnapshot() {
        let earlier = Self.histogram([(0.5, 3), (1, 8), (.infinity, 10)], sum: 8)
        let restarted = Self.histogram([(0.5, 1), (1, 2), (.infinity, 2)], sum: 1)
        #expect(restarted.subtracting(earlier) == restarted)
        // The total grew, but one bucket went down: a reset all the same.
        let bucketDown = Self.histogram([(0.5, 2), (1, 9), (.infinity, 11)], sum: 9)
        #expect(bucketDown.subtracting(earlier) == bucketDown)
        let rebucketed = Self.histogram([(0.25, 4), (1, 9), (.infinity, 12)], sum: 9)
        #expect(rebucketed.subtracting(earlier) == rebucketed)
        let fewer = Self.histogram([(1, 9), (.infinity, 12)], sum: 9)
        #expect(fewer.subtracting(earlier) == fewer)
    }

    @Test func meanIsSumOverCount() {
        #expect(Self.histogram([(1, 3), (.infinity, 4)], sum: 2).mean == 0.5)
        #expect(Self.histogram([(1, 0), (.infinity, 0)], sum: 0).mean == nil)
    }
}
