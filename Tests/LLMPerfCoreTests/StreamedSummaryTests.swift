import Testing

@testable import LLMPerfCore

/// The summary computed in passes without holding the sample (what `llmperf run` stores and
/// prints) equals, bit for bit, the one computed from the sorted array.
@Suite struct StreamedSummaryTests {
    @Test func exactSumIsCorrectlyRoundedWhateverTheOrder() {
        #expect(ExactSum([1e16, 1, -1e16]).value == 1)
        #expect(ExactSum([Double](repeating: 0.1, count: 10)).value == 1.0)
        #expect(ExactSum([1, 1e100, 1, -1e100]).value == 2)
        #expect(ExactSum([]).value == 0)
        // Half-way between two doubles until the last, tiny value: it decides the rounding.
        let halfWay = [1.0, 0x1p-53, 0x1p-106]
        #expect(ExactSum(halfWay).value == 1 + 0x1p-52)
        #expect(ExactSum(halfWay.reversed()).value == 1 + 0x1p-52)
        #expect(ExactSum([1.0, 0x1p-53, -0x1p-106]).value == 1)
        var generator = StatisticsRandom(seed: 7)
        let values = (0..<5000).map { _ in
            Double.random(in: 0.001...1, using: &generator)
                * Double(sign: .plus, exponent: Int.random(in: -20...30, using: &generator), significand: 1)
        }
        let forward = ExactSum(values).value
        for _ in 0..<5 {
            #expect(ExactSum(values.shuffled(using: &generator)).value == forward)
        }
        #expect(ExactSum(values.sorted()).value == forward)
    }

    /// Samples that take each path of the search: tiny ones, one value repeated, few distinct
    /// values (ties across ranks), wide and narrow spreads larger than a kept range, negatives.
    @Test func streamedDistributionsEqualTheSortedOnes() {
        var generator = StatisticsRandom(seed: 11)
        var samples: [[Double]] = [
            [3.5], [2, 1], [5, 5, 5], [Double](repeating: 42, count: 20_000),
            (0..<30_000).map { Double($0 % 7) },
            (0..<50_000).map { _ in 100 + Double.random(in: 0..<1e-9, using: &generator) },
            (0..<20_000).map { _ in Double.random(in: -1000...1000, using: &generator) },
        ]
        samples.append(
            (0..<40_000).map { _ in
                // Log-normal-ish latencies in ms, with a slow tail.
                let base = 20 * (1 + Double.random(in: 0..<1, using: &generator))
                return Double.random(in: 0..<1, using: &generator) < 0.02 ? base * 40 : base
            })
        samples.append((0..<9000).map { Double($0) / 1_000_000 })
        var passes = 0
        let streamed = StreamedDistributions.summarize(seriesCount: samples.count) { visit in
            passes += 1
            // A different order each pass: the database is not asked for one.
            var order = Array(0..<samples.count)
            order.shuffle(using: &generator)
            for series in order {
                for value in samples[series].shuffled(using: &generator) { visit(series, value) }
            }
        }
        #expect(passes >= 2 && passes <= 7)
        for (index, sample) in samples.enumerated() {
            let expected = DistributionSummary(sorted: sample.sorted())
            #expect(streamed[index] == expected, "sample \(index)")
        }
        #expect(
            StreamedDistributions.summarize(seriesCount: 2) { visit in visit(1, 4) } == [nil, DistributionSummary([4])])
    }

    /// The run summary from repeated scans (as read back from the database) equals the one
    /// from the array, on traces with warmup, failures, open-loop schedules, usage, multi-token
    /// chunks and a long tail.
    @Test func runSummaryFromScansEqualsTheArrayOne() {
        let traces = Self.fixedTraces(count: 12_000)
        let fromArray = RunSummary(traces: traces)
        var scans = 0
        let streamed = RunSummary { visit in
            scans += 1
            for trace in traces.reversed() { visit(trace) }
        }
        #expect(streamed == fromArray)
        #expect(scans >= 2)
        #expect(fromArray.warmup == 100 && fromArray.failed > 0 && fromArray.metrics[.itl] != nil)
        #expect(fromArray.metrics[.queue] != nil && fromArray.metrics[.inputTokens] != nil)
        #expect(RunSummary { _ in } == RunSummary(traces: []))
    }

    /// The live progress's p50: within 0.4% of the sample's nearest-rank value, in bounded memory.
    @Test func liveHistogramQuantilesAreWithinTheirStatedPrecision() {
        var generator = StatisticsRandom(seed: 5)
        let values = (0..<20_000).map { _ in Double.random(in: 0.05...5000, using: &generator) }
        var histogram = LiveHistogram()
        for value in values { histogram.add(value) }
        let sorted = values.sorted()
        for p in [0.0, 0.5, 0.9, 0.99, 1.0] {
            let exact = sorted[Int((Double(sorted.count - 1) * p).rounded())]
            let estimate = histogram.quantile(p) ?? .nan
            #expect(abs(estimate - exact) <= exact * 0.004, "p\(p): \(estimate) vs \(exact)")
        }
        #expect(LiveHistogram().quantile(0.5) == nil)
        var zeros = LiveHistogram()
        zeros.add(0)
        #expect(zeros.quantile(0.5) == 0)
    }

    static func fixedTraces(count: Int) -> [RequestTrace] {
        var generator = StatisticsRandom(seed: 3)
        return (0..<count).map { index in
            let start = UInt64(index) * 1_000_000 + UInt64.random(in: 0..<500_000, using: &generator)
            let ttft = UInt64.random(in: 20_000_000..<60_000_000, using: &generator) * (index % 97 == 0 ? 10 : 1)
            let tokens = Int.random(in: 1...40, using: &generator)
            var times: [UInt64] = []
            var at = start + ttft
            for _ in 0..<tokens {
                times.append(at)
                at += UInt64.random(in: 1_000_000..<12_000_000, using: &generator)
            }
            let multi = index % 5 == 0
            let outcome: RequestOutcome =
                index % 53 == 0
                ? .failed(.http(status: 500), detail: "x")
                : index % 71 == 0 ? .failed(.timeout(.idle), detail: "") : .ok
            return RequestTrace(
                index: index, isWarmup: index < 100, scheduledAtNanos: index % 2 == 0 ? start - 1000 : nil,
                startedAtNanos: start, dnsNanos: 1000, connectNanos: index % 10 == 0 ? 90_000 : 0,
                sentNanos: 100_000, firstByteNanos: start + ttft - 500_000, chunkAtNanos: times,
                chunkTokens: times.map { _ in multi ? 3 : 1 }, endedAtNanos: at,
                usage: index % 3 == 0
                    ? TokenUsage(promptTokens: 12 + index % 9, completionTokens: tokens * (multi ? 3 : 1)) : nil,
                outcome: outcome)
        }
    }
}
