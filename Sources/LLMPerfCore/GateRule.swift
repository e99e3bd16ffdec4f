import Foundation

/// The comparison operators of an absolute gate rule.
public enum GateOperator: String, Sendable, Equatable, Codable, CaseIterable {
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="

    public func holds(_ value: Double, _ limit: Double) -> Bool {
        switch self {
        case .less: return value < limit
        case .lessOrEqual: return value <= limit
        case .greater: return value > limit
        case .greaterOrEqual: return value >= limit
        }
    }
}

/// What a gate rule bounds: a statistic of a per-request metric (`ttft.p95`) or a run-level
/// value (`error_rate`, `goodput`, `output_tokens_per_s`, `requests_per_s`).
public struct GateSubject: Sendable, Equatable, Hashable, Codable {
    public var measure: RunMeasure
    /// `p50`, `p90`, `p95`, `p99`, `mean`, `min`, `max` or `stddev` for a metric; nil otherwise.
    public var statistic: String?

    public init(measure: RunMeasure, statistic: String? = nil) {
        self.measure = measure
        self.statistic = statistic
    }

    /// As written in rules: `ttft.p95`, `error_rate`.
    public var key: String { statistic.map { "\(measure.key).\($0)" } ?? measure.key }

    /// For messages: `p95 TTFT`, `error rate`.
    public var label: String { statistic.map { "\($0) \(measure.displayName)" } ?? measure.displayName }

    /// Canonical statistic names (aliases `median`, `avg`, `std` map onto these).
    public static let statistics = ["p50", "p90", "p95", "p99", "mean", "min", "max", "stddev"]
    static let statisticAliases = ["median": "p50", "avg": "mean", "std": "stddev"]

    /// Parses `ttft.p95`, `error_rate`, … ; `rule` is the whole text, for the error.
    static func parse(_ text: String, rule: String) throws(GateRuleError) -> GateSubject {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let name = parts[0]
        guard let measure = RunMeasure(key: name) else {
            let names = RunMeasure.ruleKeys
            if let suggestion = ScenarioSuggestion.closest(to: name, in: names) {
                throw GateRuleError(rule: rule, reason: "unknown metric '\(name)'; did you mean '\(suggestion)'?")
            }
            throw GateRuleError(
                rule: rule, reason: "unknown metric '\(name)'; expected one of: \(names.joined(separator: ", "))")
        }
        let isMetric: Bool
        if case .metric = measure { isMetric = true } else { isMetric = false }
        guard parts.count == 2 else {
            guard !isMetric else {
                throw GateRuleError(
                    rule: rule,
                    reason:
                        "'\(name)' needs a statistic, e.g. \(name).p95 (one of \(statistics.joined(separator: ", ")))")
            }
            return GateSubject(measure: measure)
        }
        let statistic = parts[1]
        guard isMetric else {
            throw GateRuleError(rule: rule, reason: "'\(name)' is a run-level value and takes no statistic")
        }
        let canonical = statisticAliases[statistic.lowercased()] ?? statistic.lowercased()
        guard statistics.contains(canonical) else {
            var reason = "unknown statistic '\(statistic)' (expected one of \(statistics.joined(separator: ", ")))"
            if let suggestion = ScenarioSuggestion.closest(to: statistic, in: statistics) {
                reason += "; did you mean '\(suggestion)'?"
            }
            throw GateRuleError(rule: rule, reason: reason)
        }
        return GateSubject(measure: measure, statistic: canonical)
    }
}

/// Why a rule could not be parsed. `description` is the whole message.
public struct GateRuleError: Error, Sendable, Equatable, CustomStringConvertible, LocalizedError {
    /// The rule as given.
    public var rule: String
    public var reason: String

    public init(rule: String, reason: String) {
        self.rule = rule
        self.reason = reason
    }

    public var description: String { rule.isEmpty ? "invalid rule: \(reason)" : "invalid rule '\(rule)': \(reason)" }
    public var errorDescription: String? { description }
}

/// One gate rule: an absolute bound (`ttft.p95 < 500ms`, `error_rate < 1%`,
/// `output_tokens_per_s > 100`, `goodput >= 90%`) or a regression limit against a baseline
/// (`ttft.p95: +10%`, `ttft.p95=+10%`, `--max-regression ttft.p95=10%`), which fails only
/// when the statistic moved the bad way by more than the percentage **and** the per-request
/// distributions differ significantly (Mann-Whitney U at α).
///
/// Limits are stored in the measure's unit: milliseconds for latencies (`ms`, `s` or `us` in
/// the text; a bare number is an error), a fraction for `error_rate` and `goodput` (written
/// with `%`), per second for throughput (a plain number, `/s` allowed), tokens for the token
/// metrics (a plain number).
public struct GateRule: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case threshold(GateOperator, limit: Double)
        /// The largest change in the bad direction that passes, in percent (10 for +10%).
        case regression(maxPercent: Double)
    }

    /// The rule as written (or, for rules made from SLOs, the equivalent text).
    public var text: String
    public var subject: GateSubject
    public var kind: Kind

    public init(text: String, subject: GateSubject, kind: Kind) {
        self.text = text
        self.subject = subject
        self.kind = kind
    }

    /// An absolute bound on a per-request metric (not `stddev`): it counts towards goodput.
    public var isPerRequest: Bool {
        guard case .threshold = kind, case .metric = subject.measure else { return false }
        return subject.statistic != "stddev"
    }

    public var isRegression: Bool {
        if case .regression = kind { return true }
        return false
    }

    /// Parses an absolute rule (`<`, `<=`, `>`, `>=`) or a regression limit (`=` or `:`).
    public static func parse(_ text: String) throws(GateRuleError) -> GateRule {
        let rule = text.trimmingCharacters(in: .whitespaces)
        guard !rule.isEmpty else {
            throw GateRuleError(rule: "", reason: "empty rule; expected e.g. 'ttft.p95 < 500ms'")
        }
        let operatorCharacters: Set<Character> = ["<", ">", "=", ":", "!"]
        guard let start = rule.firstIndex(where: { operatorCharacters.contains($0) }) else {
            throw GateRuleError(
                rule: rule,
                reason: "expected an operator (<, <=, >, >=) between the metric and the limit, e.g. 'ttft.p95 < 500ms'")
        }
        var end = start
        while end < rule.endIndex, operatorCharacters.contains(rule[end]) { end = rule.index(after: end) }
        let symbol = String(rule[start..<end])
        let lhs = rule[..<start].trimmingCharacters(in: .whitespaces)
        let rhs = rule[end...].trimmingCharacters(in: .whitespaces)
        let isRegression = symbol == "=" || symbol == ":"
        guard isRegression || GateOperator(rawValue: symbol) != nil else {
            throw GateRuleError(
                rule: rule,
                reason: "unsupported operator '\(symbol)'; use <, <=, > or >= (or = / : with a percentage for a "
                    + "regression limit, e.g. ttft.p95: +10%)")
        }
        guard !lhs.isEmpty else {
            throw GateRuleError(rule: rule, reason: "expected a metric before '\(symbol)', e.g. 'ttft.p95 < 500ms'")
        }
        let subject = try GateSubject.parse(lhs, rule: rule)
        guard !rhs.isEmpty else {
            let example = isRegression ? "+10%" : exampleLimit(subject.measure.unit)
            throw GateRuleError(rule: rule, reason: "expected a limit after '\(symbol)', e.g. \(example)")
        }
        if isRegression {
            return try parseRegression(subject: subject, limit: rhs, symbol: symbol, rule: rule)
        }
        let op = GateOperator(rawValue: symbol)!
        let limit = try parseLimit(
            rhs, unit: subject.measure.unit, key: subject.key, symbol: symbol, rule: rule)
        return GateRule(text: rule, subject: subject, kind: .threshold(op, limit: limit))
    }

    /// Parses a `--max-regression` value: `ttft.p95=10%` (also `ttft.p95: +10%`).
    public static func parseMaxRegression(_ text: String) throws(GateRuleError) -> GateRule {
        let rule = try parse(text)
        guard rule.isRegression else {
            throw GateRuleError(
                rule: rule.text, reason: "expected a regression limit like '\(rule.subject.key)=10%'")
        }
        return rule
    }

    private static func parseRegression(
        subject: GateSubject, limit: String, symbol: String, rule: String
    ) throws(GateRuleError) -> GateRule {
        let measure = subject.measure
        switch measure {
        case .errorRate, .goodput:
            let example = measure == .errorRate ? "error_rate < 1%" : "goodput >= 90%"
            throw GateRuleError(
                rule: rule,
                reason: "regression limits apply to latency and throughput; bound '\(measure.key)' with an absolute "
                    + "rule, e.g. \(example)")
        default: break
        }
        let worseUp = !measure.higherIsBetter
        let example = worseUp ? "+10%" : "-10%"
        guard limit.hasSuffix("%") else {
            throw GateRuleError(
                rule: rule,
                reason:
                    "a regression limit is a percentage, e.g. \(subject.key)\(symbol == ":" ? ": " : "=")\(example); "
                    + "for an absolute bound use <, <=, > or >=")
        }
        var number = limit.dropLast().trimmingCharacters(in: .whitespaces)
        var sign: Character?
        if let first = number.first, first == "+" || first == "-" {
            sign = first
            number.removeFirst()
        }
        guard let percent = Double(number), percent.isFinite, percent >= 0 else {
            throw GateRuleError(rule: rule, reason: "expected a percentage after '\(symbol)', e.g. \(example)")
        }
        if sign == "-" && worseUp {
            throw GateRuleError(
                rule: rule,
                reason: "'\(subject.key)' gets worse as it goes up: write the allowed regression as +\(number)%")
        }
        if sign == "+" && !worseUp {
            throw GateRuleError(
                rule: rule,
                reason: "'\(subject.key)' gets worse as it goes down: write the allowed regression as -\(number)%")
        }
        return GateRule(text: rule, subject: subject, kind: .regression(maxPercent: percent))
    }

    /// The rule for one scenario `slo:` entry: an upper bound becomes `<=`, a lower bound `>=`.
    public init(slo: SLOThreshold) throws(GateRuleError) {
        let subject = try GateSubject.parse(slo.key, rule: slo.key)
        let op: GateOperator = slo.isUpperBound ? .lessOrEqual : .greaterOrEqual
        self.init(
            text: "\(subject.key) \(op.rawValue) \(GateRule.limitLiteral(slo.limit, unit: subject.measure.unit))",
            subject: subject,
            kind: .threshold(op, limit: slo.limit))
    }

    /// The rules for a scenario's `slo:` section, in order.
    public static func rules(from slo: [SLOThreshold]) throws(GateRuleError) -> [GateRule] {
        var rules: [GateRule] = []
        for threshold in slo { rules.append(try GateRule(slo: threshold)) }
        return rules
    }

    // MARK: goodput

    /// Whether one request meets this rule taken per request: an absolute bound on a
    /// per-request metric (`ttft.p95 < 500ms` is met when the request's ttft < 500 ms; for
    /// `itl` the request's own statistic over its gaps is bounded). Nil when the rule is not a
    /// per-request bound (run-level, regression, `stddev`) or the request has no such value
    /// (e.g. tpot of a one-token answer): it then does not count against the request.
    public func isMet(by trace: RequestTrace) -> Bool? {
        guard case .threshold(let op, let limit) = kind, case .metric(let metric) = subject.measure,
            let statistic = subject.statistic, statistic != "stddev"
        else { return nil }
        let value: Double?
        if metric == .itl {
            let gaps = Metric.interTokenLatencies(of: trace)
            value = gaps.isEmpty ? nil : DistributionSummary(gaps)?.statistic(statistic)
        } else {
            value = metric.value(of: trace)
        }
        return value.map { op.holds($0, limit) }
    }

    /// Goodput: of the measured (non-warmup) requests, those that succeeded and meet every
    /// per-request rule (see `isMet(by:)`). Requests with no per-request rule only need to
    /// succeed.
    public static func goodRequests(in traces: [RequestTrace], rules: [GateRule]) -> (good: Int, measured: Int) {
        var good = 0
        var measured = 0
        for trace in traces where !trace.isWarmup {
            measured += 1
            guard trace.succeeded else { continue }
            if rules.allSatisfy({ $0.isMet(by: trace) ?? true }) { good += 1 }
        }
        return (good, measured)
    }
}

extension GateRule: Codable {
    private enum CodingKeys: String, CodingKey {
        case rule, key
        case `operator`
        case limit
        case maxRegressionPercent = "max_regression_percent"
    }

    /// Encodes the text and its meaning; decoding re-parses the text.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(text, forKey: .rule)
        try c.encode(subject.key, forKey: .key)
        switch kind {
        case .threshold(let op, let limit):
            try c.encode(op.rawValue, forKey: .operator)
            try c.encode(limit, forKey: .limit)
        case .regression(let percent):
            try c.encode(percent, forKey: .maxRegressionPercent)
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let text = try c.decode(String.self, forKey: .rule)
        do {
            self = try GateRule.parse(text)
        } catch {
            throw DecodingError.dataCorruptedError(forKey: .rule, in: c, debugDescription: error.description)
        }
    }
}
