import Foundation

/// A scenario's `lab:` section: what `llmperf lab` reports for it. The scenario's variants are
/// the "before" and "after" setups of one optimization; the section names the optimization,
/// the number it moves, where it acts, what improvement is aimed for, and which variants are
/// compared.
///
/// ```yaml
/// lab:
///   optimization: streaming            # the name in the table (default: the scenario name)
///   moves: time to first visible token # what the metric means to a user (default: its name)
///   metric: ttft.p50                   # METRIC.STAT (p50, p90, p95, p99, mean), output_tokens_per_s
///                                      # or requests_per_s
///   side: client                       # client: any endpoint can run it (lab --target);
///                                      # server: needs the bundled backend's switches
///   expect: 5x                         # optional: the improvement aimed for, or a bound on the
///                                      # after value such as "<= 5ms" (">= 100" for throughput)
///   compare:                           # optional; default: every variant against the first
///     - { before: off, after: on, label: grounded, expect: 1.5x }
///   sweep: [1, 2, 4, 8, 16]            # optional: also measure each compared variant at these
///                                      # concurrencies, for the report's load curves
/// ```
public struct LabSpec: Sendable, Equatable {
    public var optimization: String
    /// The metric in words, e.g. "time to first visible token".
    public var moves: String
    public var metric: LabMetric
    public var side: LabSide
    /// The section's `expect`, which every comparison without its own inherits.
    public var expectation: LabExpectation?
    /// The comparisons to report, resolved (the default list included), in order.
    public var comparisons: [LabComparison]
    /// Concurrencies to sweep each compared variant over (empty: no sweep).
    public var sweep: [Int] = []

    public init(
        optimization: String, moves: String, metric: LabMetric, side: LabSide, expectation: LabExpectation? = nil,
        comparisons: [LabComparison]
    ) {
        self.optimization = optimization
        self.moves = moves
        self.metric = metric
        self.side = side
        self.expectation = expectation
        self.comparisons = comparisons
    }

    /// The "what it moves" cell: the phrase with the statistic, e.g. "time to first visible token p50".
    public var movesText: String {
        guard let statistic = metric.statistic else { return moves }
        return "\(moves) \(statistic)"
    }
}

/// The number a lab comparison is judged on: a per-request metric's statistic, or a run-level
/// throughput.
public struct LabMetric: Sendable, Equatable, Codable {
    public var measure: RunMeasure
    /// `p50`, `p90`, `p95`, `p99` or `mean` for per-request metrics; nil for throughput, whose
    /// run-level value is used.
    public var statistic: String?

    public static let statistics = ["p50", "p90", "p95", "p99", "mean"]
    public static let runLevel: [RunMeasure] = [.outputTokensPerSecond, .requestsPerSecond]

    public init(measure: RunMeasure, statistic: String?) {
        self.measure = measure
        self.statistic = statistic
    }

    /// As written in a scenario: `ttft.p50`, `output_tokens_per_s`.
    public var key: String { statistic.map { "\(measure.key).\($0)" } ?? measure.key }

    /// Every key a scenario may write.
    public static var keys: [String] {
        RunMeasure.comparedMetrics.flatMap { metric in statistics.map { "\(metric.rawValue).\($0)" } }
            + runLevel.map(\.key)
    }

    /// Reads `ttft.p50` or `output_tokens_per_s`; nil for anything else.
    public init?(key: String) {
        if let measure = LabMetric.runLevel.first(where: { $0.key == key }) {
            self.init(measure: measure, statistic: nil)
            return
        }
        let parts = key.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, let metric = Metric(rawValue: parts[0]), RunMeasure.comparedMetrics.contains(metric),
            LabMetric.statistics.contains(parts[1])
        else { return nil }
        self.init(measure: .metric(metric), statistic: parts[1])
    }

    /// This metric's number on one side of a comparison row.
    public func value(of statistics: RowStatistics) -> Double? {
        switch statistic {
        case nil: return statistics.value ?? statistics.mean
        case "p50": return statistics.p50
        case "p90": return statistics.p90
        case "p95": return statistics.p95
        case "p99": return statistics.p99
        case "mean": return statistics.mean
        default: return nil
        }
    }
}

/// Where an optimization acts: on the client (it can be tried against any endpoint) or in
/// the server (it needs the bundled backend's switches).
public enum LabSide: String, Sendable, Equatable, Codable, CaseIterable {
    case client
    case server
}

/// The improvement aimed for.
public enum LabExpectation: Sendable, Equatable {
    /// The after value should be this many times better than the before value: lower for
    /// latencies (before ÷ after), higher for throughput (after ÷ before).
    case factor(Double)
    /// The after value itself should be at most this (latencies, in milliseconds) or at least
    /// this (throughput).
    case bound(Double)

    /// `5x`, `1.8×`, `<= 5ms`, `≤ 5ms`, `< 5ms`, `>= 100`; nil when the text is neither, or
    /// when a bound points the wrong way for `measure` (a latency needs ≤, throughput ≥).
    public static func parse(_ text: String, measure: RunMeasure) -> LabExpectation? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let last = trimmed.last, last == "x" || last == "×" {
            guard let value = ScenarioDecoder.parseNumber(String(trimmed.dropLast())), value > 1 else { return nil }
            return .factor(value)
        }
        let lowerBounds = ["<=", "≤", "<"]
        let upperBounds = [">=", "≥", ">"]
        let symbols = measure.higherIsBetter ? upperBounds : lowerBounds
        guard let symbol = symbols.first(where: { trimmed.hasPrefix($0) }) else { return nil }
        let rest = String(trimmed.dropFirst(symbol.count)).trimmingCharacters(in: .whitespaces)
        switch measure.unit {
        case .milliseconds:
            guard let duration = DurationParser.parse(rest) else { return nil }
            return .bound(duration.millisecondsValue)
        default:
            guard let value = ScenarioDecoder.parseNumber(rest), value >= 0 else { return nil }
            return .bound(value)
        }
    }
}

extension LabExpectation: Codable {
    private enum CodingKeys: String, CodingKey { case factor, bound }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let factor = try container.decodeIfPresent(Double.self, forKey: .factor) {
            self = .factor(factor)
        } else {
            self = .bound(try container.decode(Double.self, forKey: .bound))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .factor(let factor): try container.encode(factor, forKey: .factor)
        case .bound(let bound): try container.encode(bound, forKey: .bound)
        }
    }
}

/// One before/after pair of variants.
public struct LabComparison: Sendable, Equatable {
    public var before: String
    public var after: String
    /// Names the pair in the table when the scenario has several (default: none).
    public var label: String?
    /// The pair's own `expect`, else the section's.
    public var expectation: LabExpectation?

    public init(before: String, after: String, label: String? = nil, expectation: LabExpectation? = nil) {
        self.before = before
        self.after = after
        self.label = label
        self.expectation = expectation
    }
}
