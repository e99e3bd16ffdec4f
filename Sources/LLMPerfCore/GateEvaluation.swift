import Foundation

/// `llmperf gate`: every rule evaluated on one run (and, for regression rules, a baseline).
/// The gate passes iff every rule passes; a rule that cannot be evaluated (no data, or a
/// regression rule without a baseline) fails, with the reason.
public struct GateEvaluation: Sendable, Equatable {
    /// One rule's outcome, in numbers; LLMPerfReport writes it for people (`measuredText`,
    /// `threshold`, `reason`).
    public struct Result: Sendable, Equatable {
        /// The rule as written.
        public var rule: String
        public var subject: GateSubject
        public var kind: GateRule.Kind
        public var passed: Bool
        /// The run's value, in the measure's unit (ms, fraction, per second, tokens); nil when
        /// there was nothing to measure.
        public var measured: Double?
        /// Regression rules: the baseline's value, the relative change (a fraction, candidate vs
        /// baseline; nil when the baseline is 0) and the Mann-Whitney p-value.
        public var baselineValue: Double?
        public var relativeChange: Double?
        public var pValue: Double?
        public var finding: Finding

        public init(
            rule: String, subject: GateSubject, kind: GateRule.Kind, passed: Bool, measured: Double?,
            baselineValue: Double? = nil, relativeChange: Double? = nil, pValue: Double? = nil, finding: Finding
        ) {
            self.rule = rule
            self.subject = subject
            self.kind = kind
            self.passed = passed
            self.measured = measured
            self.baselineValue = baselineValue
            self.relativeChange = relativeChange
            self.pValue = pValue
            self.finding = finding
        }

        /// `ttft.p95`, `error_rate`, …
        public var key: String { subject.key }
    }

    /// What the evaluation of one rule found.
    public enum Finding: Sendable, Equatable {
        /// A threshold rule compared the run's value with its limit.
        case compared
        /// A side had no value: `why` says what it lacked (`no successful request has a ttft`);
        /// `side` is nil for a threshold rule, which has one side.
        case nothingToMeasure(side: Side?, why: String)
        /// A regression rule without a baseline run.
        case needsBaseline
        /// A regression rule's relative change (a fraction; infinite when the baseline is 0),
        /// whether it goes the bad way beyond the limit, and the significance level its p-value
        /// (nil: too few samples to test) was held to.
        case regression(change: Double, exceeds: Bool, alpha: Double)
    }

    public enum Side: String, Sendable, Equatable {
        case run
        case baseline
    }

    public var results: [Result]
    public var passed: Bool
    /// The significance level of the regression rules.
    public var alpha: Double

    /// Evaluates `rules` on `run` (its `RequestTrace`s, warmup included: they are left out
    /// here). `goodputRules` decide which request counts as good for a `goodput` rule; by
    /// default the per-request absolute rules among `rules` (e.g. the scenario's SLOs).
    public init(
        rules: [GateRule], run: [RequestTrace], baseline: [RequestTrace]? = nil, alpha: Double = 0.05,
        goodputRules: [GateRule]? = nil, throughputBucketSeconds: Double = 1
    ) {
        let context = Context(
            run: run, baseline: baseline, goodputRules: goodputRules ?? rules.filter(\.isPerRequest),
            bucketSeconds: throughputBucketSeconds)
        results = rules.map { context.evaluate($0, alpha: alpha) }
        passed = results.allSatisfy(\.passed)
        self.alpha = alpha
    }
}

private struct Context {
    var run: [RequestTrace]
    var baseline: [RequestTrace]?
    var goodputRules: [GateRule]
    var bucketSeconds: Double
    var runSummary: RunSummary
    var baselineSummary: RunSummary?

    init(run: [RequestTrace], baseline: [RequestTrace]?, goodputRules: [GateRule], bucketSeconds: Double) {
        self.run = run
        self.baseline = baseline
        self.goodputRules = goodputRules
        self.bucketSeconds = bucketSeconds
        runSummary = RunSummary(traces: run)
        baselineSummary = baseline.map { RunSummary(traces: $0) }
    }

    func value(_ subject: GateSubject, traces: [RequestTrace], summary: RunSummary) -> Double? {
        switch subject.measure {
        case .metric(let metric):
            return subject.statistic.flatMap { summary.metrics[metric]?.statistic($0) }
        case .errorRate: return summary.requests > 0 ? summary.errorRate : nil
        case .goodput:
            let counts = GateRule.goodRequests(in: traces, rules: goodputRules)
            return counts.measured > 0 ? Double(counts.good) / Double(counts.measured) : nil
        case .outputTokensPerSecond: return summary.windowSeconds > 0 ? summary.outputTokensPerSecond : nil
        case .inputTokensPerSecond: return summary.windowSeconds > 0 ? summary.inputTokensPerSecond : nil
        case .requestsPerSecond: return summary.windowSeconds > 0 ? summary.requestsPerSecond : nil
        }
    }

    func evaluate(_ rule: GateRule, alpha: Double) -> GateEvaluation.Result {
        let subject = rule.subject
        let measured = value(subject, traces: run, summary: runSummary)
        var result = GateEvaluation.Result(
            rule: rule.text, subject: subject, kind: rule.kind, passed: false, measured: measured, finding: .compared)
        switch rule.kind {
        case .threshold(let op, let limit):
            guard let measured else {
                result.finding = .nothingToMeasure(side: nil, why: noDataReason(subject))
                return result
            }
            result.passed = op.holds(measured, limit)
            return result
        case .regression(let maxPercent):
            guard let baseline, let baselineSummary else {
                result.finding = .needsBaseline
                return result
            }
            let base = value(subject, traces: baseline, summary: baselineSummary)
            result.baselineValue = base
            guard let measured, let base else {
                result.finding = .nothingToMeasure(
                    side: measured == nil ? .run : .baseline, why: noDataReason(subject))
                return result
            }
            let relative: Double =
                base != 0
                ? (measured - base) / abs(base) : measured == base ? 0 : (measured > base ? .infinity : -.infinity)
            result.relativeChange = relative.isFinite ? relative : nil  // JSON has no infinity
            let test = MannWhitneyU.test(
                subject.measure.testSamples(in: baseline, bucketSeconds: bucketSeconds),
                subject.measure.testSamples(in: run, bucketSeconds: bucketSeconds))
            result.pValue = test?.pValue
            let worsening = (subject.measure.higherIsBetter ? -relative : relative) * 100
            let exceeds = worsening > maxPercent
            let significant = (test?.pValue ?? 1) < alpha
            result.passed = !(exceeds && significant)
            result.finding = .regression(change: relative, exceeds: exceeds, alpha: alpha)
            return result
        }
    }

    func noDataReason(_ subject: GateSubject) -> String {
        switch subject.measure {
        case .metric(let metric): return "no successful request has a \(metric.rawValue)"
        case .errorRate, .goodput: return "no measured request"
        case .outputTokensPerSecond, .inputTokensPerSecond, .requestsPerSecond: return "the run has no measured window"
        }
    }
}
