import Foundation

/// `llmperf gate`: every rule evaluated on one run (and, for regression rules, a baseline).
/// The gate passes iff every rule passes; a rule that cannot be evaluated (no data, or a
/// regression rule without a baseline) fails, with the reason.
public struct GateEvaluation: Sendable, Equatable, Codable {
    public struct Result: Sendable, Equatable, Codable {
        /// The rule as written.
        public var rule: String
        /// `ttft.p95`, `error_rate`, …
        public var key: String
        public var passed: Bool
        /// The run's value, in the measure's unit (ms, fraction, per second, tokens); nil when
        /// there was nothing to measure.
        public var measured: Double?
        /// `612.3 ms`, `0.80%`, or `n/a`.
        public var measuredText: String
        /// `< 500 ms`, or `+10% vs baseline` for a regression rule.
        public var threshold: String
        /// Regression rules: the baseline's value, the relative change (a fraction, candidate vs
        /// baseline; nil when the baseline is 0) and the Mann-Whitney p-value.
        public var baselineValue: Double?
        public var relativeChange: Double?
        public var pValue: Double?
        /// For people: `p95 TTFT 612.3 ms > 500 ms`,
        /// `p95 TTFT +14.2% vs baseline (p = 0.003) exceeds +10%`.
        public var reason: String

        public init(
            rule: String, key: String, passed: Bool, measured: Double?, measuredText: String, threshold: String,
            baselineValue: Double? = nil, relativeChange: Double? = nil, pValue: Double? = nil, reason: String
        ) {
            self.rule = rule
            self.key = key
            self.passed = passed
            self.measured = measured
            self.measuredText = measuredText
            self.threshold = threshold
            self.baselineValue = baselineValue
            self.relativeChange = relativeChange
            self.pValue = pValue
            self.reason = reason
        }
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
        case .requestsPerSecond: return summary.windowSeconds > 0 ? summary.requestsPerSecond : nil
        }
    }

    func evaluate(_ rule: GateRule, alpha: Double) -> GateEvaluation.Result {
        let subject = rule.subject
        let unit = subject.measure.unit
        let measured = value(subject, traces: run, summary: runSummary)
        var result = GateEvaluation.Result(
            rule: rule.text, key: subject.key, passed: false, measured: measured,
            measuredText: measured.map(unit.format) ?? "n/a", threshold: "", baselineValue: nil, relativeChange: nil,
            pValue: nil, reason: "")
        switch rule.kind {
        case .threshold(let op, let limit):
            result.threshold = "\(op.rawValue) \(unit.formatLimit(limit))"
            guard let measured else {
                result.reason = "\(subject.label): nothing to measure (\(noDataReason(subject)))"
                return result
            }
            result.passed = op.holds(measured, limit)
            let relation = measured < limit ? "<" : measured > limit ? ">" : "="
            result.reason = "\(subject.label) \(unit.format(measured)) \(relation) \(unit.formatLimit(limit))"
            if !result.passed && relation == "=" { result.reason += " (needs \(result.threshold))" }
            return result
        case .regression(let maxPercent):
            let worseUp = !subject.measure.higherIsBetter
            let limitText = "\(worseUp ? "+" : "-")\(MeasureUnit.trimmed(maxPercent))%"
            result.threshold = "\(limitText) vs baseline"
            guard let baseline, let baselineSummary else {
                result.reason = "\(subject.label): a regression rule needs a baseline run (--baseline)"
                return result
            }
            let base = value(subject, traces: baseline, summary: baselineSummary)
            result.baselineValue = base
            guard let measured, let base else {
                let side = measured == nil ? "the run" : "the baseline"
                result.reason = "\(subject.label): nothing to measure in \(side) (\(noDataReason(subject)))"
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
            let worsening = (worseUp ? relative : -relative) * 100
            let changeText = "\(subject.label) \(Context.percent(relative)) vs baseline"
            let pText = test.map { Context.pText($0.pValue) } ?? "no test: too few samples"
            let exceeds = worsening > maxPercent
            let significant = (test?.pValue ?? 1) < alpha
            result.passed = !(exceeds && significant)
            if exceeds && significant {
                result.reason = "\(changeText) (\(pText)) exceeds \(limitText)"
            } else if exceeds {
                let why = test.map { "\(Context.pText($0.pValue)) ≥ \(MeasureUnit.trimmed(alpha))" } ?? pText
                result.reason = "\(changeText) exceeds \(limitText) but is not significant (\(why))"
            } else {
                result.reason = "\(changeText) (\(pText)) is within \(limitText)"
            }
            return result
        }
    }

    func noDataReason(_ subject: GateSubject) -> String {
        switch subject.measure {
        case .metric(let metric): return "no successful request has a \(metric.rawValue)"
        case .errorRate, .goodput: return "no measured request"
        case .outputTokensPerSecond, .requestsPerSecond: return "the run has no measured window"
        }
    }

    /// `+14.2%`, `-3.0%`, `+inf%`.
    static func percent(_ fraction: Double) -> String {
        if fraction.isInfinite { return fraction > 0 ? "+inf%" : "-inf%" }
        return String(format: "%+.1f%%", fraction * 100)
    }

    /// `p = 0.003`, `p < 0.001`.
    static func pText(_ p: Double) -> String {
        p < 0.001 ? "p < 0.001" : String(format: "p = %.3f", p)
    }
}
