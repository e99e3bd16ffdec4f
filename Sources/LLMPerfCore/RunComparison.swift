import Foundation

// MARK: - what is compared

/// A quantity compared between runs or bounded by a gate rule: a per-request metric or a
/// run-level value.
public enum RunMeasure: Sendable, Equatable, Hashable {
    case metric(Metric)
    /// Output tokens per second over the measured window.
    case outputTokensPerSecond
    /// Successful requests per second over the measured window.
    case requestsPerSecond
    /// Failed share of the measured requests.
    case errorRate
    /// Share of the measured requests that succeeded and met every per-request SLO.
    case goodput

    /// The per-request metrics `compare` reports, in display order.
    public static let comparedMetrics: [Metric] = [.ttft, .ttftScheduled, .tpot, .itl, .e2e, .dns, .tcp, .tls, .ttfb]
    static let runLevel: [RunMeasure] = [.outputTokensPerSecond, .requestsPerSecond, .errorRate, .goodput]
    /// Every name a rule may start with.
    static let ruleKeys: [String] = Metric.allCases.map(\.rawValue) + runLevel.map(\.key)

    public init?(key: String) {
        if let metric = Metric(rawValue: key) {
            self = .metric(metric)
            return
        }
        guard let measure = RunMeasure.runLevel.first(where: { $0.key == key }) else { return nil }
        self = measure
    }

    /// `ttft`, `output_tokens_per_s`, `requests_per_s`, `error_rate`, `goodput`.
    public var key: String {
        switch self {
        case .metric(let metric): return metric.rawValue
        case .outputTokensPerSecond: return "output_tokens_per_s"
        case .requestsPerSecond: return "requests_per_s"
        case .errorRate: return "error_rate"
        case .goodput: return "goodput"
        }
    }

    /// For messages: `TTFT`, `output tokens/s`, `error rate`.
    public var displayName: String {
        switch self {
        case .metric(let metric):
            switch metric {
            case .ttftScheduled: return "TTFT (scheduled)"
            case .inputTokens: return "input tokens"
            case .outputTokens: return "output tokens"
            case .total, .queue: return metric.rawValue
            default: return metric.rawValue.uppercased()
            }
        case .outputTokensPerSecond: return "output tokens/s"
        case .requestsPerSecond: return "requests/s"
        case .errorRate: return "error rate"
        case .goodput: return "goodput"
        }
    }

    public var unit: MeasureUnit {
        switch self {
        case .metric(let metric): return metric.unit == .tokens ? .tokens : .milliseconds
        case .outputTokensPerSecond: return .tokensPerSecond
        case .requestsPerSecond: return .requestsPerSecond
        case .errorRate, .goodput: return .fraction
        }
    }

    /// Throughput and goodput are better higher; latencies, token counts and errors lower.
    public var higherIsBetter: Bool {
        switch self {
        case .metric: return false
        case .outputTokensPerSecond, .requestsPerSecond, .goodput: return true
        case .errorRate: return false
        }
    }

    /// The samples a significance test uses, over the measured requests of one run:
    /// - per-request metrics: one value per successful request (`Metric.value`), except `itl`,
    ///   whose gaps within one request are not independent: each request contributes its mean gap;
    /// - throughput: the run's window cut into whole buckets of `bucketSeconds` from the first
    ///   request's start (the partial last bucket is dropped); each bucket's output tokens
    ///   (by chunk arrival; a usage count is spread over the chunks) or completed requests per
    ///   second. Buckets are not fully independent (load carries over), so the test is
    ///   somewhat optimistic for throughput; it has little power for short runs, which is honest;
    /// - error rate and goodput: one 0/1 value per measured request (the test used is the
    ///   two-proportion z-test on their counts).
    public func testSamples(in traces: [RequestTrace], bucketSeconds: Double = 1) -> [Double] {
        switch self {
        case .metric(let metric):
            var values: [Double] = []
            values.reserveCapacity(traces.count)
            for trace in traces where !trace.isWarmup && trace.succeeded {
                if metric == .itl {
                    let gaps = Metric.interTokenLatencies(of: trace)
                    if !gaps.isEmpty { values.append(gaps.reduce(0, +) / Double(gaps.count)) }
                } else if let value = metric.value(of: trace) {
                    values.append(value)
                }
            }
            return values
        case .outputTokensPerSecond, .requestsPerSecond:
            return RunMeasure.buckets(of: self, in: traces, bucketSeconds: bucketSeconds)
        case .errorRate:
            return traces.filter { !$0.isWarmup }.map { $0.succeeded ? 0 : 1 }
        case .goodput:
            return []
        }
    }

    /// What `testSamples` are, for reports.
    public func testSampleDescription(bucketSeconds: Double = 1) -> String {
        switch self {
        case .metric(.itl): return "per-request mean gap"
        case .metric: return "per request"
        case .outputTokensPerSecond, .requestsPerSecond:
            return "per \(MeasureUnit.trimmed(bucketSeconds, digits: 3)) s bucket"
        case .errorRate, .goodput: return "per request (0/1), two-proportion z-test"
        }
    }

    static func buckets(of measure: RunMeasure, in traces: [RequestTrace], bucketSeconds: Double) -> [Double] {
        var origin = UInt64.max
        var end: UInt64 = 0
        for trace in traces where !trace.isWarmup {
            origin = min(origin, trace.startedAtNanos)
            end = max(end, trace.endedAtNanos)
        }
        guard origin < end, bucketSeconds > 0 else { return [] }
        let width = bucketSeconds * 1e9
        let count = Int((Double(end - origin) / width).rounded(.down))
        guard count > 0 else { return [] }
        var totals = [Double](repeating: 0, count: count)
        @inline(__always) func bucket(_ at: UInt64) -> Int? {
            let index = Int((Double(at &- min(at, origin)) / width).rounded(.down))
            return index < count ? index : nil
        }
        for trace in traces where !trace.isWarmup && trace.succeeded {
            if measure == .requestsPerSecond {
                if let i = bucket(trace.endedAtNanos) { totals[i] += 1 }
                continue
            }
            let chunks = trace.chunkAtNanos
            guard !chunks.isEmpty else { continue }
            let tokens = trace.chunkTokens
            var chunkTotal = 0.0
            for i in 0..<chunks.count { chunkTotal += i < tokens.count ? Double(tokens[i]) : 1 }
            let scale = chunkTotal > 0 ? Double(trace.outputTokens) / chunkTotal : 0
            for i in 0..<chunks.count {
                if let b = bucket(chunks[i]) { totals[b] += (i < tokens.count ? Double(tokens[i]) : 1) * scale }
            }
        }
        return totals.map { $0 / bucketSeconds }
    }
}

extension RunMeasure: Codable {
    public init(from decoder: Decoder) throws {
        let key = try decoder.singleValueContainer().decode(String.self)
        guard let measure = RunMeasure(key: key) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "unknown measure '\(key)'"))
        }
        self = measure
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(key)
    }
}

/// The unit of a measure's values, and how they are written and read.
public enum MeasureUnit: String, Sendable, Equatable, Codable {
    case milliseconds = "ms"
    case tokens
    case tokensPerSecond = "tok/s"
    case requestsPerSecond = "req/s"
    /// A share in [0, 1], shown as a percentage.
    case fraction

    /// A measured value for people: `612.3 ms`, `105.2 tok/s`, `0.80%`, `91.0%`.
    public func format(_ value: Double) -> String {
        switch self {
        case .milliseconds: return String(format: "%.1f ms", value)
        case .tokens: return String(format: "%.1f tokens", value)
        case .tokensPerSecond: return String(format: "%.1f tok/s", value)
        case .requestsPerSecond: return String(format: "%.2f req/s", value)
        case .fraction:
            let percent = value * 100
            return percent != 0 && abs(percent) < 1
                ? String(format: "%.2f%%", percent) : String(format: "%.1f%%", percent)
        }
    }

    /// A limit for people, without needless digits: `500 ms`, `1%`, `100 tok/s`.
    public func formatLimit(_ value: Double) -> String {
        switch self {
        case .milliseconds: return "\(MeasureUnit.trimmed(value)) ms"
        case .tokens: return "\(MeasureUnit.trimmed(value)) tokens"
        case .tokensPerSecond: return "\(MeasureUnit.trimmed(value)) tok/s"
        case .requestsPerSecond: return "\(MeasureUnit.trimmed(value)) req/s"
        case .fraction: return "\(MeasureUnit.trimmed(value * 100))%"
        }
    }

    /// A limit as rule text reads it back: `500ms`, `1%`, `100`.
    func literal(_ value: Double) -> String {
        switch self {
        case .milliseconds: return "\(MeasureUnit.trimmed(value))ms"
        case .fraction: return "\(MeasureUnit.trimmed(value * 100))%"
        case .tokens, .tokensPerSecond, .requestsPerSecond: return MeasureUnit.trimmed(value)
        }
    }

    var exampleLimit: String {
        switch self {
        case .milliseconds: return "500ms"
        case .fraction: return "1%"
        case .tokens, .tokensPerSecond, .requestsPerSecond: return "100"
        }
    }

    /// Reads a rule's limit in this unit (see `GateRule`).
    func parseLimit(_ text: String, key: String, symbol: String, rule: String) throws(GateRuleError) -> Double {
        var end = text.startIndex
        let numeric: Set<Character> = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ".", "+", "-"]
        while end < text.endIndex, numeric.contains(text[end]) { end = text.index(after: end) }
        let suffix = text[end...].trimmingCharacters(in: .whitespaces).lowercased()
        guard let number = Double(text[..<end]), number.isFinite else {
            throw GateRuleError(
                rule: rule, reason: "expected a number after '\(symbol)', e.g. \(exampleLimit), found '\(text)'")
        }
        switch self {
        case .milliseconds:
            switch suffix {
            case "ms": return number
            case "s": return number * 1000
            case "us", "µs": return number / 1000
            case "":
                throw GateRuleError(
                    rule: rule,
                    reason: "'\(key)' is a time: give the unit, e.g. \(MeasureUnit.trimmed(number))ms or "
                        + "\(MeasureUnit.trimmed(number / 1000))s")
            default:
                throw GateRuleError(rule: rule, reason: "'\(key)' is a time: unit '\(suffix)' is not ms, s or us")
            }
        case .fraction:
            guard suffix == "%" else {
                throw GateRuleError(
                    rule: rule, reason: "'\(key)' is a share: write it as a percentage, e.g. \(key) < 1%")
            }
            return number / 100
        case .tokensPerSecond, .requestsPerSecond, .tokens:
            let allowed: Set<String> =
                self == .tokens ? ["", "tokens", "tok"] : ["", "/s", self == .tokensPerSecond ? "tok/s" : "req/s"]
            guard allowed.contains(suffix) else {
                let what = self == .tokens ? "a token count" : "a rate per second"
                throw GateRuleError(
                    rule: rule,
                    reason: "'\(key)' is \(what): write a plain number, e.g. \(MeasureUnit.trimmed(number)); "
                        + "unit '\(suffix)' does not apply")
            }
            return number
        }
    }

    /// `value` with at most `digits` decimals and no trailing zeros.
    static func trimmed(_ value: Double, digits: Int = 6) -> String {
        var text = String(format: "%.\(digits)f", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text == "-0" ? "0" : text
    }
}

// MARK: - rows

/// A row's verdict for the candidate against the baseline, knowing the measure's direction.
public enum Verdict: String, Sendable, Equatable, Codable {
    case better
    case worse
    /// Not significant at α: `~`.
    case noChange = "no_change"
    /// One run has no data for the row, so nothing was tested.
    case notComparable = "not_comparable"

    /// `better`, `worse`, `~`, `n/a`.
    public var symbol: String {
        switch self {
        case .better: return "better"
        case .worse: return "worse"
        case .noChange: return "~"
        case .notComparable: return "n/a"
        }
    }
}

/// Candidate minus baseline: `absolute = b − a`, `relative = (b − a) / a` (a fraction: 0.1 is
/// +10%; nil when a is 0).
public struct Change: Sendable, Equatable, Codable {
    public var absolute: Double
    public var relative: Double?

    public init(absolute: Double, relative: Double?) {
        self.absolute = absolute
        self.relative = relative
    }

    public init?(from a: Double?, to b: Double?) {
        guard let a, let b else { return nil }
        self.init(absolute: b - a, relative: a != 0 ? (b - a) / a : nil)
    }
}

/// One run's side of a row.
public struct RowStatistics: Sendable, Equatable, Codable {
    /// Values behind the statistics: samples (requests, or gaps for `itl`), buckets for
    /// throughput, measured requests for rates.
    public var count: Int
    /// Values the significance test used: requests (one mean gap per request for `itl`),
    /// buckets for throughput, measured requests for rates.
    public var tested: Int
    /// The run-level value: throughput over the whole window, or the rate. Nil for
    /// per-request metrics.
    public var value: Double?
    /// Of the per-request values (all gaps for `itl`, as in `RunSummary`), or of the buckets for
    /// throughput; for rates only `mean` (= the rate) is set.
    public var mean: Double?
    public var p50: Double?
    public var p90: Double?
    public var p95: Double?
    public var p99: Double?

    public init(
        count: Int, tested: Int, value: Double? = nil, mean: Double? = nil, p50: Double? = nil, p90: Double? = nil,
        p95: Double? = nil, p99: Double? = nil
    ) {
        self.count = count
        self.tested = tested
        self.value = value
        self.mean = mean
        self.p50 = p50
        self.p90 = p90
        self.p95 = p95
        self.p99 = p99
    }

    init(summary: DistributionSummary?, count: Int, tested: Int, value: Double? = nil) {
        self.init(
            count: count, tested: tested, value: value, mean: summary?.mean, p50: summary?.p50, p90: summary?.p90,
            p95: summary?.p95, p99: summary?.p99)
    }
}

/// One measure, baseline against one candidate.
public struct ComparisonRow: Sendable, Equatable, Codable {
    public var measure: RunMeasure
    public var unit: MeasureUnit
    public var higherIsBetter: Bool
    public var baseline: RowStatistics
    public var candidate: RowStatistics
    /// Change of the p50 and of the mean (per-request metrics, throughput buckets).
    public var p50Change: Change?
    public var meanChange: Change?
    /// Change of the run-level value (throughput, rates; absolute change of a rate is in
    /// fraction points).
    public var valueChange: Change?
    /// What the test compared (see `RunMeasure.testSamples`).
    public var testedOn: String
    public var mannWhitney: MannWhitneyU?
    public var proportions: TwoProportionTest?
    /// The p-value of whichever test ran; nil when none could.
    public var pValue: Double?
    /// Bootstrap intervals of candidate − baseline for p50 and p95 of the tested samples.
    public var p50Difference: BootstrapInterval?
    public var p95Difference: BootstrapInterval?
    public var verdict: Verdict

    public init(
        measure: RunMeasure, unit: MeasureUnit, higherIsBetter: Bool, baseline: RowStatistics,
        candidate: RowStatistics, p50Change: Change?, meanChange: Change?, valueChange: Change?, testedOn: String,
        mannWhitney: MannWhitneyU?, proportions: TwoProportionTest?, pValue: Double?,
        p50Difference: BootstrapInterval?, p95Difference: BootstrapInterval?, verdict: Verdict
    ) {
        self.measure = measure
        self.unit = unit
        self.higherIsBetter = higherIsBetter
        self.baseline = baseline
        self.candidate = candidate
        self.p50Change = p50Change
        self.meanChange = meanChange
        self.valueChange = valueChange
        self.testedOn = testedOn
        self.mannWhitney = mannWhitney
        self.proportions = proportions
        self.pValue = pValue
        self.p50Difference = p50Difference
        self.p95Difference = p95Difference
        self.verdict = verdict
    }
}

public struct ComparisonWarning: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Equatable, Codable {
        case workloadDiffers = "workload_differs"
        case smallSample = "small_sample"
    }

    public var kind: Kind
    /// The run the warning is about (the candidate for workload differences).
    public var run: String
    public var message: String

    public init(kind: Kind, run: String, message: String) {
        self.kind = kind
        self.run = run
        self.message = message
    }
}

/// The baseline against one candidate.
public struct CandidateComparison: Sendable, Equatable, Codable {
    public var baseline: String
    public var candidate: String
    public var workloadDifferences: [WorkloadDifference]
    public var rows: [ComparisonRow]
    public var warnings: [ComparisonWarning]

    public init(
        baseline: String, candidate: String, workloadDifferences: [WorkloadDifference], rows: [ComparisonRow],
        warnings: [ComparisonWarning]
    ) {
        self.baseline = baseline
        self.candidate = candidate
        self.workloadDifferences = workloadDifferences
        self.rows = rows
        self.warnings = warnings
    }
}

/// One run handed to a comparison.
public struct ComparisonInput: Sendable {
    public var label: String
    public var traces: [RequestTrace]
    public var workload: RunWorkload?
    /// `RunSummary(traces: traces)` when the caller already has it (it is the costliest part of
    /// a large comparison); computed when nil.
    public var summary: RunSummary?

    public init(label: String, traces: [RequestTrace], workload: RunWorkload? = nil, summary: RunSummary? = nil) {
        self.label = label
        self.traces = traces
        self.workload = workload
        self.summary = summary
    }
}

public struct RunComparisonError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    public var message: String

    public init(message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}

// MARK: - the comparison

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
        var measures = RunMeasure.comparedMetrics.filter { $0 != .ttftScheduled || scheduled }.map(RunMeasure.metric)
        measures += [.outputTokensPerSecond, .requestsPerSecond, .errorRate]
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
        for metric in RunMeasure.comparedMetrics {
            let tested = RunMeasure.metric(metric).testSamples(in: input.traces).sorted()
            samples[.metric(metric)] = Samples(summary: summary.metrics[metric], tested: tested)
        }
        for measure in [RunMeasure.outputTokensPerSecond, .requestsPerSecond] {
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
