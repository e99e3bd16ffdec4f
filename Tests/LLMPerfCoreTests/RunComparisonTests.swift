import Foundation
import Testing

@testable import LLMPerfCore

/// Builds synthetic runs for the comparison and gate tests.
enum SyntheticRun {
    /// One streamed request: first token after `ttftMs`, then `tokens − 1` more every `itlMs`.
    static func trace(
        index: Int, startMs: Double, ttftMs: Double, tokens: Int = 8, itlMs: Double = 10, failed: Bool = false
    ) -> RequestTrace {
        let start = UInt64(startMs * 1e6)
        let chunks = (0..<tokens).map { start + UInt64((ttftMs + Double($0) * itlMs) * 1e6) }
        return RequestTrace(
            index: index, startedAtNanos: start, firstByteNanos: UInt64(ttftMs * 0.9 * 1e6),
            chunkAtNanos: failed ? [] : chunks, chunkTokens: failed ? [] : Array(repeating: 1, count: tokens),
            endedAtNanos: (chunks.last ?? start) + 1_000_000,
            outcome: failed ? .failed(.http(status: 500), detail: "") : .ok)
    }

    /// Closed loop, one worker: each request starts 1 ms after the previous one ended.
    static func closedLoop(count: Int, ttftMs: Double, itlMs: Double, tokens: Int, seed: UInt64) -> [RequestTrace] {
        var random = StatisticsRandom(seed: seed)
        var startMs = 0.0
        return (0..<count).map { i in
            let ttft = ttftMs * Foundation.exp(0.25 * random.nextNormal())
            let itl = itlMs * Foundation.exp(0.1 * random.nextNormal())
            let t = trace(index: i, startMs: startMs, ttftMs: ttft, tokens: tokens, itlMs: itl)
            startMs = Double(t.endedAtNanos) / 1e6 + 1
            return t
        }
    }

    /// `count` requests, one every `spacingMs`, TTFT log-normal around `ttftMs` (seeded).
    static func run(
        count: Int, ttftMs: Double, itlMs: Double = 10, tokens: Int = 8, spacingMs: Double = 100, seed: UInt64,
        failures: Int = 0
    ) -> [RequestTrace] {
        var random = StatisticsRandom(seed: seed)
        return (0..<count).map { i in
            let ttft = ttftMs * Foundation.exp(0.25 * random.nextNormal())
            let itl = itlMs * Foundation.exp(0.1 * random.nextNormal())
            return trace(
                index: i, startMs: Double(i) * spacingMs, ttftMs: ttft, tokens: tokens, itlMs: itl,
                failed: i < failures)
        }
    }
}

@Suite struct RunComparisonTests {
    func row(_ comparison: RunComparison, _ measure: RunMeasure) throws -> ComparisonRow {
        try #require(comparison.comparisons.first?.rows.first { $0.measure == measure })
    }

    @Test func sameDistributionIsNoChange() throws {
        let a = SyntheticRun.run(count: 200, ttftMs: 100, seed: 1)
        let b = SyntheticRun.run(count: 200, ttftMs: 100, seed: 2)
        let comparison = try RunComparison(runs: [.init(label: "a", traces: a), .init(label: "b", traces: b)])
        let rows = try #require(comparison.comparisons.first?.rows)
        #expect(
            rows.map(\.measure.key) == [
                "ttft", "tpot", "itl", "e2e", "dns", "tcp", "tls", "ttfb", "output_tokens_per_s", "requests_per_s",
                "error_rate",
            ])
        for row in rows
        where row.measure != .metric(.dns) && row.measure != .metric(.tcp) && row.measure != .metric(.tls) {
            #expect(row.verdict == .noChange, "\(row.measure.key): p = \(row.pValue ?? -1)")
        }
        let ttft = try row(comparison, .metric(.ttft))
        #expect(ttft.p50Difference?.contains(0) == true)
        #expect(comparison.warnings.isEmpty)
    }

    @Test func twentyPercentSlowerTTFTIsWorse() throws {
        let a = SyntheticRun.run(count: 200, ttftMs: 100, seed: 1)
        let b = SyntheticRun.run(count: 200, ttftMs: 120, seed: 2)
        let comparison = try RunComparison(runs: [.init(label: "a", traces: a), .init(label: "b", traces: b)])
        let ttft = try row(comparison, .metric(.ttft))
        #expect(ttft.verdict == .worse)
        #expect(try #require(ttft.pValue) < 0.001)
        #expect(try #require(ttft.p50Change?.relative) > 0.1)
        #expect(ttft.p50Difference?.excludesZero == true)
        #expect(ttft.mannWhitney?.method == .asymptotic)
        #expect(ttft.baseline.count == 200 && ttft.candidate.count == 200)
        // Swapped, the same change is an improvement.
        let reverse = try RunComparison(runs: [.init(label: "b", traces: b), .init(label: "a", traces: a)])
        #expect(try row(reverse, .metric(.ttft)).verdict == .better)
    }

    @Test func significantButTinyChangeIsNoChangeUnlessAsked() throws {
        // TTFT 100 ms ± 1% against the same draws shifted by 1%: 500 samples a side make that
        // significant, but it is below the default 2% minimum change a verdict needs.
        var random = StatisticsRandom(seed: 7)
        let a = (0..<500).map { i in
            SyntheticRun.trace(index: i, startMs: Double(i) * 100, ttftMs: 100 * (1 + 0.01 * random.nextNormal()))
        }
        let b = a.map { trace -> RequestTrace in
            var shifted = trace
            shifted.chunkAtNanos = trace.chunkAtNanos.map { $0 + 1_000_000 }
            return shifted
        }
        let inputs: [ComparisonInput] = [.init(label: "a", traces: a), .init(label: "b", traces: b)]
        let ttft = try row(try RunComparison(runs: inputs), .metric(.ttft))
        #expect(try #require(ttft.pValue) < 0.05)
        #expect(ttft.verdict == .noChange)
        let strict = try RunComparison(runs: inputs, options: .init(minimumRelativeChange: 0))
        #expect(try row(strict, .metric(.ttft)).verdict == .worse)
    }

    @Test func verdictKnowsEachMeasuresDirection() throws {
        // Faster decoding: lower ITL/TPOT (better) and more output tokens per second (better).
        let slow = SyntheticRun.closedLoop(count: 100, ttftMs: 100, itlMs: 20, tokens: 20, seed: 3)
        let fast = SyntheticRun.closedLoop(count: 100, ttftMs: 100, itlMs: 10, tokens: 20, seed: 4)
        let comparison = try RunComparison(runs: [
            .init(label: "slow", traces: slow), .init(label: "fast", traces: fast),
        ])
        #expect(try row(comparison, .metric(.tpot)).verdict == .better)
        #expect(try row(comparison, .metric(.itl)).verdict == .better)
        #expect(try row(comparison, .metric(.e2e)).verdict == .better)
        let throughput = try row(comparison, .outputTokensPerSecond)
        #expect(throughput.higherIsBetter)
        #expect(throughput.verdict == .better)
        #expect(try #require(throughput.valueChange?.absolute) > 0)
        #expect(throughput.testedOn == "per 1 s bucket")
        #expect(try row(comparison, .requestsPerSecond).verdict == .better)
        // Open loop at the same offered load: faster answers, same throughput.
        let slowOpen = SyntheticRun.run(count: 200, ttftMs: 100, itlMs: 20, tokens: 20, spacingMs: 50, seed: 3)
        let fastOpen = SyntheticRun.run(count: 200, ttftMs: 100, itlMs: 10, tokens: 20, spacingMs: 50, seed: 4)
        let open = try RunComparison(runs: [.init(label: "s", traces: slowOpen), .init(label: "f", traces: fastOpen)])
        #expect(try row(open, .metric(.tpot)).verdict == .better)
        #expect(try row(open, .outputTokensPerSecond).verdict == .noChange)
        #expect(RunMeasure.metric(.ttft).higherIsBetter == false)
        #expect(RunMeasure.requestsPerSecond.higherIsBetter && RunMeasure.goodput.higherIsBetter)
        #expect(!RunMeasure.errorRate.higherIsBetter)
    }

    @Test func errorRateUsesTheTwoProportionTest() throws {
        let a = SyntheticRun.run(count: 400, ttftMs: 100, seed: 5, failures: 12)
        let b = SyntheticRun.run(count: 380, ttftMs: 100, seed: 6, failures: 27)
        let comparison = try RunComparison(runs: [.init(label: "a", traces: a), .init(label: "b", traces: b)])
        let errors = try row(comparison, .errorRate)
        #expect(abs(try #require(errors.pValue) - 0.008551736231688485) < 1e-12)
        #expect(errors.verdict == .worse)
        #expect(errors.baseline.value == 0.03)
        #expect(errors.proportions?.successes2 == 27)
    }

    @Test func goodputRowWithSLOs() throws {
        let a = SyntheticRun.run(count: 200, ttftMs: 100, seed: 7)
        let b = SyntheticRun.run(count: 200, ttftMs: 160, seed: 8)
        let slo = [SLOThreshold(key: "ttft.p95", metric: .ttft, statistic: "p95", limit: 150, isUpperBound: true)]
        let comparison = try RunComparison(
            runs: [.init(label: "a", traces: a), .init(label: "b", traces: b)], slo: slo)
        let goodput = try row(comparison, .goodput)
        #expect(goodput.verdict == .worse)
        let before = try #require(goodput.baseline.value)
        let after = try #require(goodput.candidate.value)
        #expect(before > after)
        #expect(comparison.goodputRules == ["ttft.p95 <= 150ms"])
    }

    @Test func warnsAboutWorkloadsAndSmallSamples() throws {
        let a = SyntheticRun.run(count: 8, ttftMs: 100, seed: 9)
        let b = SyntheticRun.run(count: 30, ttftMs: 100, seed: 10)
        let comparison = try RunComparison(runs: [
            .init(label: "a", traces: a, workload: RunWorkload(scenarioHash: "h1", model: "m1", maxTokens: 64)),
            .init(label: "b", traces: b, workload: RunWorkload(scenarioHash: "h2", model: "m2", maxTokens: 64)),
        ])
        let pair = try #require(comparison.comparisons.first)
        #expect(pair.workloadDifferences == [WorkloadDifference(field: "model", baseline: "m1", candidate: "m2")])
        #expect(
            pair.warnings.map(\.message) == [
                "'b' ran a different workload than 'a': model differs: \"m1\" vs \"m2\"",
                "'a' has fewer than 10 samples for ttft (8), tpot (8), itl (8), e2e (8), dns (8), tcp (8), tls (8), "
                    + "ttfb (8), output_tokens_per_s (0), requests_per_s (0), error_rate (8): the tests have little power",
                "'b' has fewer than 10 samples for output_tokens_per_s (3), requests_per_s (3): the tests have little power",
            ])
        // Only the hash differs: the scenario is named.
        #expect(
            WorkloadDifference.between(RunWorkload(scenarioHash: "x"), RunWorkload(scenarioHash: "y")).map(\.field)
                == ["scenario"])
    }

    @Test func rowsWithoutDataAreOmittedOrNotComparable() throws {
        let open = SyntheticRun.run(count: 20, ttftMs: 100, seed: 11).map { trace -> RequestTrace in
            var t = trace
            t.scheduledAtNanos = t.startedAtNanos
            return t
        }
        let closed = SyntheticRun.run(count: 20, ttftMs: 100, seed: 12)
        let comparison = try RunComparison(runs: [.init(label: "a", traces: closed), .init(label: "b", traces: open)])
        let scheduled = try row(comparison, .metric(.ttftScheduled))
        #expect(scheduled.verdict == .noChange)  // closed loop: scheduled time is the start
        let allFailed = SyntheticRun.run(count: 20, ttftMs: 100, seed: 13, failures: 20)
        let broken = try RunComparison(runs: [.init(label: "a", traces: closed), .init(label: "b", traces: allFailed)])
        #expect(try row(broken, .metric(.ttft)).verdict == .notComparable)
        #expect(try row(broken, .errorRate).verdict == .worse)
        #expect(throws: RunComparisonError(message: "compare needs at least two runs, got 1")) {
            try RunComparison(runs: [.init(label: "a", traces: closed)])
        }
    }

    @Test func deterministicAndCodable() throws {
        let runs: [ComparisonInput] = [
            .init(label: "a", traces: SyntheticRun.run(count: 100, ttftMs: 100, seed: 1)),
            .init(label: "b", traces: SyntheticRun.run(count: 100, ttftMs: 110, seed: 2)),
            .init(label: "c", traces: SyntheticRun.run(count: 100, ttftMs: 90, seed: 3)),
        ]
        let one = try RunComparison(runs: runs, options: .init(seed: 99))
        let two = try RunComparison(runs: runs, options: .init(seed: 99))
        #expect(one == two)
        #expect(one.comparisons.map(\.candidate) == ["b", "c"])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(one)
        #expect(try encoder.encode(two) == data)
        let decoded = try JSONDecoder().decode(RunComparison.self, from: data)
        #expect(decoded == one)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"measure\":\"ttft\""))
        #expect(text.contains("\"verdict\":\"no_change\"") || text.contains("\"verdict\":\"worse\""))
    }
}
