import Foundation

/// One line of the `llmperf lab` table: an optimization's before and after value of the
/// number it moves, the change, whether the comparison found it significant, and whether the
/// improvement aimed for was reached. Built from the `RunComparison` row of the lab's measure;
/// the significance is that row's verdict (Mann-Whitney U on the per-request samples, or on
/// per-second buckets for throughput). Its cells and sentences for people are LLMPerfReport's
/// (LabRow+Text.swift).
public struct LabRow: Sendable, Equatable, Codable {
    /// The scenario (file base name) the row comes from.
    public var scenario: String
    /// "streaming", or "speculative decoding (n-gram, grounded)" when the pair has a label.
    public var optimization: String
    public var before: String
    public var after: String
    /// "time to first visible token p50".
    public var moves: String
    public var metric: LabMetric
    public var unit: MeasureUnit
    public var beforeValue: Double?
    public var afterValue: Double?
    /// Samples the test used on each side (requests, or buckets for throughput).
    public var beforeSamples: Int
    public var afterSamples: Int
    public var verdict: Verdict
    public var pValue: Double?
    public var alpha: Double
    public var minimumRelativeChange: Double
    public var expectation: LabExpectation?

    public init(
        scenario: String, optimization: String, before: String, after: String, moves: String, metric: LabMetric,
        unit: MeasureUnit, beforeValue: Double?, afterValue: Double?, beforeSamples: Int, afterSamples: Int,
        verdict: Verdict, pValue: Double?, alpha: Double = 0.05, minimumRelativeChange: Double = 0.02,
        expectation: LabExpectation? = nil
    ) {
        self.scenario = scenario
        self.optimization = optimization
        self.before = before
        self.after = after
        self.moves = moves
        self.metric = metric
        self.unit = unit
        self.beforeValue = beforeValue
        self.afterValue = afterValue
        self.beforeSamples = beforeSamples
        self.afterSamples = afterSamples
        self.verdict = verdict
        self.pValue = pValue
        self.alpha = alpha
        self.minimumRelativeChange = minimumRelativeChange
        self.expectation = expectation
    }

    /// The row for `pair` of `spec`, from the comparison of its two variants (nil `row` when
    /// the comparison has no row for the measure: neither run has a value).
    public init(
        scenario: String, spec: LabSpec, pair: LabComparison, row: ComparisonRow?,
        options: RunComparison.Options = RunComparison.Options()
    ) {
        self.init(
            scenario: scenario, optimization: LabRow.optimizationName(spec, pair: pair), before: pair.before,
            after: pair.after, moves: spec.movesText, metric: spec.metric, unit: spec.metric.measure.unit,
            beforeValue: row.flatMap { spec.metric.value(of: $0.baseline) },
            afterValue: row.flatMap { spec.metric.value(of: $0.candidate) }, beforeSamples: row?.baseline.tested ?? 0,
            afterSamples: row?.candidate.tested ?? 0, verdict: row?.verdict ?? .notComparable, pValue: row?.pValue,
            alpha: options.alpha, minimumRelativeChange: options.minimumRelativeChange,
            expectation: pair.expectation)
    }

    /// `optimization`, with the pair's label in parentheses when it has one.
    public static func optimizationName(_ spec: LabSpec, pair: LabComparison) -> String {
        guard let label = pair.label else { return spec.optimization }
        return "\(spec.optimization) (\(label))"
    }

    // MARK: derived numbers

    /// (after − before) ÷ before; nil without both values or when before is 0.
    public var relativeChange: Double? {
        guard let beforeValue, let afterValue, beforeValue != 0 else { return nil }
        return (afterValue - beforeValue) / beforeValue
    }

    /// How many times better the after value is: before ÷ after for latencies, after ÷ before
    /// for throughput (below 1 when it got worse); nil when a value is missing or 0.
    public var improvementFactor: Double? {
        guard let beforeValue, let afterValue, beforeValue > 0, afterValue > 0 else { return nil }
        return metric.measure.higherIsBetter ? afterValue / beforeValue : beforeValue / afterValue
    }

    /// Whether the after value reached `expectation`: a factor needs a significant
    /// improvement at least that large; a bound is checked on the after value alone. Nil
    /// without an expectation or without the values to judge it.
    public var expectationMet: Bool? {
        guard let expectation else { return nil }
        switch expectation {
        case .factor(let factor):
            guard let improvement = improvementFactor else { return verdict == .notComparable ? nil : false }
            return verdict == .better && improvement >= factor
        case .bound(let bound):
            guard let afterValue else { return nil }
            return metric.measure.higherIsBetter ? afterValue >= bound : afterValue <= bound
        }
    }

    /// True when the comparison found the change significant and in the better direction.
    public var helped: Bool { verdict == .better }
}
