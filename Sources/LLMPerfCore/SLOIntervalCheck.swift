import Foundation

/// An slo checked the way a load search must check it: a run "meets" a rule only when the rule holds
/// over the run's whole 95% interval of the value, not just at its point estimate. A short run at a load
/// near the limit can land under a p99 limit by luck; a search that believed it would report a capacity
/// the endpoint does not have.
///
/// Each rule gets a verdict: `met` (the interval's worse end holds), `unsure` (the estimate holds, the
/// worse end does not) or `missed` (the estimate breaks it, or there was nothing to measure). The
/// interval of each kind of value:
/// - a percentile of a metric (`ttft.p99`): the percentile bootstrap of that quantile of the run's
///   per-request values (`Bootstrap.quantileInterval`, 2,000 seeded resamples; ITL pools every gap, so
///   its interval is somewhat narrower than the truth);
/// - a mean: the normal interval, mean ± 1.96 standard errors;
/// - `error_rate` and `goodput`: the normal interval of the proportion, p ± 1.96·√(p(1−p)/n), which is what
///   a bootstrap of the requests gives for runs of this size; like the bootstrap's it is a single point when
///   no request (or every request) failed, so a run without a failure meets `error_rate < 1%`;
/// - `min`, `max`, `stddev` and the throughputs: the value itself (no interval is computed for them).
public struct SLOIntervalCheck: Sendable, Equatable, Codable {
    public enum Verdict: String, Sendable, Equatable, Codable {
        case met
        case unsure
        case missed
    }

    public struct RuleCheck: Sendable, Equatable, Codable {
        /// The rule as written.
        public var rule: String
        public var verdict: Verdict
        /// The run's value (nil: nothing to measure).
        public var estimate: Double?
        /// The end of the 95% interval nearer to breaking the rule (the estimate when none is computed).
        public var worstBound: Double?

        public init(rule: String, verdict: Verdict, estimate: Double?, worstBound: Double?) {
            self.rule = rule
            self.verdict = verdict
            self.estimate = estimate
            self.worstBound = worstBound
        }

        enum CodingKeys: String, CodingKey {
            case rule, verdict, estimate
            case worstBound = "worst_bound"
        }

        /// `ttft.p99 <= 500` or `ttft.p99 <= 500 (unsure: 95% interval reaches 512.3)`.
        public var text: String {
            switch verdict {
            case .met, .missed: return rule
            case .unsure:
                guard let worstBound else { return rule }
                return
                    "\(rule) (unsure: its 95% interval reaches \(DecimalText.trimmed(worstBound, fractionDigits: 3)))"
            }
        }
    }

    /// z for a two-sided 95% interval.
    static let z = 1.959963984540054

    public var rules: [RuleCheck]

    /// Every rule met over its interval (true for no rules).
    public var met: Bool { rules.allSatisfy { $0.verdict == .met } }
    /// The rules not met, as `RuleCheck.text`.
    public var brokenRules: [String] { rules.filter { $0.verdict != .met }.map(\.text) }

    public init(rules: [RuleCheck]) { self.rules = rules }

    /// Checks the threshold rules among `rules` on `traces` (warmup included: left out here); a
    /// regression rule cannot be checked without a baseline and is `missed`. `goodputRules` as for
    /// `GateEvaluation`.
    public init(rules: [GateRule], traces: [RequestTrace], goodputRules: [GateRule]? = nil, seed: UInt64 = 1) {
        let goodput = goodputRules ?? rules.filter(\.isPerRequest)
        let evaluation = GateEvaluation(rules: rules, run: traces, baseline: nil, goodputRules: goodput)
        var checks: [RuleCheck] = []
        for (rule, result) in zip(rules, evaluation.results) {
            guard case .threshold(let op, let limit) = rule.kind, let estimate = result.measured else {
                checks.append(RuleCheck(rule: rule.text, verdict: .missed, estimate: result.measured, worstBound: nil))
                continue
            }
            guard op.holds(estimate, limit) else {
                checks.append(RuleCheck(rule: rule.text, verdict: .missed, estimate: estimate, worstBound: estimate))
                continue
            }
            let upperIsWorse = op == .less || op == .lessOrEqual
            let interval = Self.interval(
                of: rule.subject, estimate: estimate, traces: traces, goodput: goodput, seed: seed)
            let worst = upperIsWorse ? interval.upper : interval.lower
            checks.append(
                RuleCheck(
                    rule: rule.text, verdict: op.holds(worst, limit) ? .met : .unsure, estimate: estimate,
                    worstBound: worst))
        }
        self.rules = checks
    }

    /// The 95% interval of `subject`'s value in `traces` (see the type's comment).
    static func interval(
        of subject: GateSubject, estimate: Double, traces: [RequestTrace], goodput: [GateRule], seed: UInt64
    ) -> (lower: Double, upper: Double) {
        let point = (lower: estimate, upper: estimate)
        switch subject.measure {
        case .metric(let metric):
            var values: [Double] = []
            for trace in traces where !trace.isWarmup && trace.succeeded {
                if metric == .itl {
                    Metric.appendInterTokenLatencies(of: trace, to: &values)
                } else if let value = metric.value(of: trace) {
                    values.append(value)
                }
            }
            guard values.count > 1 else { return point }
            switch subject.statistic {
            case "p50", "p90", "p95", "p99":
                let quantile = Double(subject.statistic!.dropFirst())! / 100
                values.sort()
                guard let interval = Bootstrap(seed: seed).quantileInterval(sorted: values, quantile: quantile) else {
                    return point
                }
                return (interval.lower, interval.upper)
            case "mean":
                let n = Double(values.count)
                let mean = values.reduce(0, +) / n
                let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
                let half = z * (variance / n).squareRoot()
                return (estimate - half, estimate + half)
            default:
                return point
            }
        case .errorRate:
            let measured = traces.filter { !$0.isWarmup }
            return proportion(measured.filter { !$0.succeeded }.count, of: measured.count) ?? point
        case .goodput:
            let counts = GateRule.goodRequests(in: traces, rules: goodput)
            return proportion(counts.good, of: counts.measured) ?? point
        case .outputTokensPerSecond, .inputTokensPerSecond, .requestsPerSecond:
            return point
        }
    }

    /// The normal interval of a proportion `count / n`, clamped to [0, 1].
    static func proportion(_ count: Int, of n: Int) -> (lower: Double, upper: Double)? {
        guard n > 0 else { return nil }
        let p = Double(count) / Double(n)
        let half = z * (p * (1 - p) / Double(n)).squareRoot()
        return (max(0, p - half), min(1, p + half))
    }
}
