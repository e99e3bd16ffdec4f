import Foundation

public struct RunComparisonError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    public var message: String

    public init(message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}

/// `llmperf compare`: every run after the first against the first (the baseline), measure by
/// measure. Deterministic for `options.seed`.
///
/// Rows: `ttft`, `ttft_scheduled` (only when a run has an arrival schedule), `tpot`, `itl`,
/// `e2e`, `dns`, `tcp`, `tls`, `ttfb`, then `output_tokens_per_s`, `requests_per_s`,
/// `error_rate`, and `goodput` when SLOs are given. A row with no data in either run is
/// omitted; with data in only one, its verdict is `notComparable`.
///
/// Verdict: `noChange` (`~`) unless the test's p < α; then the direction comes from the test
/// (Mann-Whitney: the candidate tends larger when u₂ > u₁ with the baseline as first sample;
/// two-proportion: the candidate's rate is higher) and the measure's `higherIsBetter`.
public struct RunComparison: Sendable, Equatable, Codable {
    public struct Options: Sendable, Equatable, Codable {
        public var alpha: Double
        public var bootstrapResamples: Int
        public var confidence: Double
        public var seed: UInt64
        /// Fewer test samples than this in a run → a `smallSample` warning.
        public var minimumSampleSize: Int
        public var throughputBucketSeconds: Double
        /// A significant change smaller than this share of the baseline (in p50, mean and run
        /// value alike) is reported as `~`: with thousands of samples a test finds shifts far
        /// below what a user can act on or the machine can reproduce. 0 turns it off.
        public var minimumRelativeChange: Double

        public init(
            alpha: Double = 0.05, bootstrapResamples: Int = Bootstrap.defaultResamples, confidence: Double = 0.95,
            seed: UInt64 = 1, minimumSampleSize: Int = 10, throughputBucketSeconds: Double = 1,
            minimumRelativeChange: Double = 0.02
        ) {
            self.alpha = alpha
            self.bootstrapResamples = bootstrapResamples
            self.confidence = confidence
            self.seed = seed
            self.minimumSampleSize = minimumSampleSize
            self.throughputBucketSeconds = throughputBucketSeconds
            self.minimumRelativeChange = minimumRelativeChange
        }
    }

    public struct RunOverview: Sendable, Equatable, Codable {
        public var label: String
        public var requests: Int
        public var succeeded: Int
        public var failed: Int
        public var windowSeconds: Double
        public var workload: RunWorkload?

        public init(
            label: String, requests: Int, succeeded: Int, failed: Int, windowSeconds: Double, workload: RunWorkload?
        ) {
            self.label = label
            self.requests = requests
            self.succeeded = succeeded
            self.failed = failed
            self.windowSeconds = windowSeconds
            self.workload = workload
        }
    }

    public var options: Options
    /// Goodput rules (from the SLOs) as text; empty when no SLOs were given.
    public var goodputRules: [String]
    public var runs: [RunOverview]
    /// One per run after the first, in input order.
    public var comparisons: [CandidateComparison]

    /// Every warning, in order.
    public var warnings: [ComparisonWarning] { comparisons.flatMap(\.warnings) }

    public init(runs inputs: [ComparisonInput], slo: [SLOThreshold] = [], options: Options = Options())
        throws(RunComparisonError)
    {
        guard inputs.count >= 2 else {
            throw RunComparisonError(message: "compare needs at least two runs, got \(inputs.count)")
        }
        let rules: [GateRule]
        do {
            rules = try GateRule.rules(from: slo)
        } catch {
            throw RunComparisonError(message: "bad SLO: \(error.description)")
        }
        self.options = options
        self.goodputRules = slo.isEmpty ? [] : rules.filter(\.isPerRequest).map(\.text)
        let sides = inputs.map { RunSide(input: $0, rules: slo.isEmpty ? nil : rules, options: options) }
        self.runs = sides.map(\.overview)
        let scheduled = inputs.contains { $0.traces.contains { $0.scheduledAtNanos != nil } }
        // `ttfa` and `reasoning_time` only when some request reasoned visibly: otherwise `ttfa`
        // repeats `ttft` and `reasoning_time` has no value.
        let reasoned = inputs.contains { $0.traces.contains(where: \.hasReasoningChunks) }
        var measures = RunMeasure.comparedMetrics.filter { metric in
            switch metric {
            case .ttftScheduled: return scheduled
            case .ttfa, .reasoningTime: return reasoned
            default: return true
            }
        }.map(RunMeasure.metric)
        measures.append(.outputTokensPerSecond)
        // Where nothing is generated (embeddings), the latency is `total` and the throughput input tokens/s.
        if sides.contains(where: \.summary.generatedNothing) {
            measures.insert(.metric(.total), at: 0)
            measures.append(.inputTokensPerSecond)
        }
        measures += [.requestsPerSecond, .errorRate]
        if !slo.isEmpty { measures.append(.goodput) }
        var comparisons: [CandidateComparison] = []
        for index in 1..<sides.count {
            comparisons.append(
                RunComparison.compare(sides[0], sides[index], index: index, measures: measures, options: options))
        }
        self.comparisons = comparisons
    }

    private static func compare(
        _ a: RunSide, _ b: RunSide, index: Int, measures: [RunMeasure], options: Options
    ) -> CandidateComparison {
        var rows: [ComparisonRow] = []
        var warnings: [ComparisonWarning] = []
        var differences: [WorkloadDifference] = []
        if let wa = a.overview.workload, let wb = b.overview.workload {
            differences = WorkloadDifference.between(wa, wb)
            if !differences.isEmpty {
                warnings.append(
                    ComparisonWarning(
                        kind: .workloadDiffers, run: b.label,
                        message: "'\(b.label)' ran a different workload than '\(a.label)': "
                            + differences.map(\.description).joined(separator: "; ")))
            }
        }
        var small: [String: [String]] = [:]
        for measure in measures {
            guard let row = row(measure, a, b, index: index, options: options) else { continue }
            rows.append(row)
            for (side, stats) in [(a.label, row.baseline), (b.label, row.candidate)]
            where stats.tested < options.minimumSampleSize {
                small[side, default: []].append("\(measure.key) (\(stats.tested))")
            }
        }
        for side in [a.label, b.label] {
            guard let keys = small[side] else { continue }
            warnings.append(
                ComparisonWarning(
                    kind: .smallSample, run: side,
                    message: "'\(side)' has fewer than \(options.minimumSampleSize) samples for "
                        + "\(keys.joined(separator: ", ")): the tests have little power"))
        }
        return CandidateComparison(
            baseline: a.label, candidate: b.label, workloadDifferences: differences, rows: rows, warnings: warnings)
    }

    private static func row(
        _ measure: RunMeasure, _ a: RunSide, _ b: RunSide, index: Int, options: Options
    ) -> ComparisonRow? {
        let direction = measure.higherIsBetter
        switch measure {
        case .errorRate, .goodput:
            guard let ca = a.counts(measure), let cb = b.counts(measure) else { return nil }
            let sa = RowStatistics(count: ca.trials, tested: ca.trials, value: ca.rate, mean: ca.rate)
            let sb = RowStatistics(count: cb.trials, tested: cb.trials, value: cb.rate, mean: cb.rate)
            let test = TwoProportionTest(
                successes1: ca.hits, trials1: ca.trials, successes2: cb.hits, trials2: cb.trials)
            var verdict = Verdict.noChange
            if let test, test.pValue < options.alpha, test.difference != 0 {
                verdict = (test.difference > 0) == direction ? .better : .worse
            }
            return ComparisonRow(
                measure: measure, unit: measure.unit, higherIsBetter: direction, baseline: sa, candidate: sb,
                p50Change: nil, meanChange: nil, valueChange: Change(from: ca.rate, to: cb.rate),
                testedOn: measure.testSampleDescription(), mannWhitney: nil, proportions: test,
                pValue: test?.pValue, p50Difference: nil, p95Difference: nil,
                verdict: test == nil ? .notComparable : verdict)
        default:
            let xa = a.samples(measure)
            let xb = b.samples(measure)
            guard xa.summary != nil || xb.summary != nil || a.value(measure) != nil || b.value(measure) != nil
            else { return nil }
            let sa = RowStatistics(
                summary: xa.summary, count: xa.summary?.count ?? 0, tested: xa.tested.count, value: a.value(measure))
            let sb = RowStatistics(
                summary: xb.summary, count: xb.summary?.count ?? 0, tested: xb.tested.count, value: b.value(measure))
            let test = MannWhitneyU.test(sortedX: xa.tested, sortedY: xb.tested)
            var verdict = Verdict.notComparable
            if let test {
                verdict = .noChange
                let changes = [
                    Change(from: sa.p50, to: sb.p50)?.relative, Change(from: sa.mean, to: sb.mean)?.relative,
                    Change(from: sa.value, to: sb.value)?.relative,
                ].compactMap { $0 }
                let practical = changes.isEmpty || changes.contains { abs($0) >= options.minimumRelativeChange }
                if test.pValue < options.alpha, test.u1 != test.u2, practical {
                    verdict = (test.u2 > test.u1) == direction ? .better : .worse
                }
            }
            let seed = StatisticsRandom.seed(options.seed, stream: "\(index)/\(measure.key)")
            let bootstrap = Bootstrap(
                resamples: options.bootstrapResamples, confidence: options.confidence, seed: seed)
            return ComparisonRow(
                measure: measure, unit: measure.unit, higherIsBetter: direction, baseline: sa, candidate: sb,
                p50Change: Change(from: sa.p50, to: sb.p50), meanChange: Change(from: sa.mean, to: sb.mean),
                valueChange: Change(from: sa.value, to: sb.value),
                testedOn: measure.testSampleDescription(bucketSeconds: options.throughputBucketSeconds),
                mannWhitney: test, proportions: nil, pValue: test?.pValue,
                p50Difference: bootstrap.quantileDifference(
                    baselineSorted: xa.tested, candidateSorted: xb.tested, quantile: 0.5),
                p95Difference: bootstrap.quantileDifference(
                    baselineSorted: xa.tested, candidateSorted: xb.tested, quantile: 0.95),
                verdict: verdict)
        }
    }
}

/// One run's data, extracted once and reused against every candidate.
private struct RunSide {
    struct Samples {
        /// Statistics of the values behind the side (`RunSummary`'s, for per-request metrics).
        var summary: DistributionSummary?
        /// Ascending test samples.
        var tested: [Double]
    }

    var label: String
    var overview: RunComparison.RunOverview
    var summary: RunSummary
    var samples: [RunMeasure: Samples] = [:]
    var goodput: (hits: Int, trials: Int)?

    init(input: ComparisonInput, rules: [GateRule]?, options: RunComparison.Options) {
        label = input.label
        summary = input.summary ?? RunSummary(traces: input.traces)
        let window = summary.windowSeconds
        overview = RunComparison.RunOverview(
            label: input.label, requests: summary.requests, succeeded: summary.succeeded, failed: summary.failed,
            windowSeconds: window, workload: input.workload)
        // `total` is compared only where nothing was generated (embeddings): no pass over the traces for it otherwise.
        for metric in RunMeasure.comparedMetrics + (summary.generatedNothing ? [.total] : []) {
            let tested = RunMeasure.metric(metric).testSamples(in: input.traces).sorted()
            samples[.metric(metric)] = Samples(summary: summary.metrics[metric], tested: tested)
        }
        for measure in [RunMeasure.outputTokensPerSecond, .inputTokensPerSecond, .requestsPerSecond] {
            let buckets = measure.testSamples(in: input.traces, bucketSeconds: options.throughputBucketSeconds).sorted()
            samples[measure] = Samples(
                summary: buckets.isEmpty ? nil : DistributionSummary(sorted: buckets), tested: buckets)
        }
        if let rules {
            let counts = GateRule.goodRequests(in: input.traces, rules: rules)
            goodput = (counts.good, counts.measured)
        }
    }

    func samples(_ measure: RunMeasure) -> Samples {
        samples[measure] ?? Samples(summary: nil, tested: [])
    }

    /// The run-level value of throughput measures.
    func value(_ measure: RunMeasure) -> Double? {
        guard summary.windowSeconds > 0 else { return nil }
        switch measure {
        case .outputTokensPerSecond: return summary.outputTokensPerSecond
        case .inputTokensPerSecond: return summary.inputTokensPerSecond
        case .requestsPerSecond: return summary.requestsPerSecond
        default: return nil
        }
    }

    func counts(_ measure: RunMeasure) -> (hits: Int, trials: Int, rate: Double)? {
        switch measure {
        case .errorRate:
            guard summary.requests > 0 else { return nil }
            return (summary.failed, summary.requests, summary.errorRate)
        case .goodput:
            guard let goodput, goodput.trials > 0 else { return nil }
            return (goodput.hits, goodput.trials, Double(goodput.hits) / Double(goodput.trials))
        default: return nil
        }
    }
}
