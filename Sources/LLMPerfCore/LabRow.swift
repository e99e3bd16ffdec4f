import Foundation

/// One line of the `llmperf lab` table: an optimization's before and after value of the
/// number it moves, the change, whether the comparison found it significant, and whether the
/// improvement aimed for was reached. Built from the `RunComparison` row of the lab's measure;
/// the significance is that row's verdict (Mann-Whitney U on the per-request samples, or on
/// per-second buckets for throughput).
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

    // MARK: cells

    public var beforeText: String { beforeValue.map { LabFormat.value($0, unit: unit) } ?? "–" }
    public var afterText: String { afterValue.map { LabFormat.value($0, unit: unit) } ?? "–" }

    /// `−83.2% (5.95× lower)`, `+4.1%`, `–`.
    public var changeText: String {
        guard let relative = relativeChange, let beforeValue, let afterValue else { return "–" }
        var text = LabFormat.percent(relative)
        if let ratio = LabFormat.ratioText(before: beforeValue, after: afterValue) { text += " (\(ratio))" }
        return text
    }

    /// `yes (p<0.001)`, `yes, worse (p=0.0031)`, `no (p=0.41)`, `no (change under 2%)`, `n/a`.
    public var significanceText: String {
        switch verdict {
        case .better: return "yes (\(LabFormat.p(pValue)))"
        case .worse: return "yes, worse (\(LabFormat.p(pValue)))"
        case .noChange:
            if let pValue, pValue < alpha {
                return "no (change under \(LabFormat.trimmed(minimumRelativeChange * 100))%)"
            }
            return "no (\(LabFormat.p(pValue)))"
        case .notComparable: return "n/a"
        }
    }

    /// `5× met`, `1.8× missed`, `≤ 5 ms met`, or empty without an expectation.
    public var expectationText: String {
        guard let expectation else { return "" }
        let aim = expectation.text(measure: metric.measure)
        switch expectationMet {
        case true?: return "\(aim) met"
        case false?: return "\(aim) missed"
        case nil: return "\(aim) n/a"
        }
    }

    // MARK: sentences

    /// A plain sentence when the optimization did not help (no significant change, worse, or
    /// not measurable) or helped less than aimed for; nil when it helped as expected.
    public var sentence: String? {
        let from = "from \(beforeText) to \(afterText)"
        let change = relativeChange.map { LabFormat.percent($0) }
        switch verdict {
        case .notComparable:
            var missing: [String] = []
            if beforeValue == nil { missing.append("'\(before)'") }
            if afterValue == nil { missing.append("'\(after)'") }
            let which = missing.isEmpty ? "one of the runs" : missing.joined(separator: " and ")
            return "\(optimization) could not be judged: \(which) had no \(moves) values to compare "
                + "(too few successful requests)."
        case .noChange:
            var text = "\(optimization) did not help here: \(moves) went \(from)"
            if let change { text += " (\(change))" }
            if let pValue, pValue < alpha {
                text += ", a change under \(LabFormat.trimmed(minimumRelativeChange * 100))%, too small to count."
            } else {
                text += ", which is not a significant difference (\(LabFormat.p(pValue, spaced: true)))."
            }
            return text
        case .worse:
            var text = "\(optimization) did not help here: it made \(moves) worse, \(from)"
            if let change { text += " (\(change), \(LabFormat.p(pValue, spaced: true)))" }
            return text + "."
        case .better:
            guard expectationMet == false, let expectation else { return nil }
            switch expectation {
            case .factor(let factor):
                let measured = improvementFactor.map { LabFormat.factor($0) } ?? "–"
                let direction = metric.measure.higherIsBetter ? "higher" : "lower"
                return "\(optimization) helped, but less than aimed for: \(moves) \(measured) \(direction) "
                    + "(\(from)), short of the \(LabFormat.factor(factor)) expected."
            case .bound:
                return "\(optimization) helped, but less than aimed for: \(moves) was \(afterText) "
                    + "(from \(beforeText)), not \(expectation.text(measure: metric.measure))."
            }
        }
    }
}

/// Number formatting of the lab table, shared by the terminal, Markdown, HTML and JSON outputs.
public enum LabFormat {
    /// `5.95×`, `12.3×`, `240×`.
    public static func factor(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude >= 100 { return String(format: "%.0f×", value) }
        if magnitude >= 10 { return String(format: "%.1f×", value) }
        return trimmed(value, maximumFractionDigits: 2) + "×"
    }

    /// `−83.2%`, `+4.1%`, `0.0%` (a true minus sign for decreases).
    public static func percent(_ fraction: Double) -> String {
        let text = String(format: "%.1f", abs(fraction) * 100)
        if text == "0.0" { return "0.0%" }
        return (fraction < 0 ? "−" : "+") + text + "%"
    }

    /// `5.95× lower` / `2.6× higher` when the values differ by at least 10%; nil otherwise.
    public static func ratioText(before: Double, after: Double) -> String? {
        guard before > 0, after > 0 else { return nil }
        if after < before, before / after >= 1.1 { return factor(before / after) + " lower" }
        if after > before, after / before >= 1.1 { return factor(after / before) + " higher" }
        return nil
    }

    /// A measured value with its unit: `612.3 ms`, `4.21 ms`, `0.84 ms`, `105.2 tok/s`.
    public static func value(_ value: Double, unit: MeasureUnit) -> String {
        switch unit {
        case .milliseconds:
            let magnitude = abs(value)
            if magnitude >= 1000 { return String(format: "%.0f ms", value) }
            if magnitude >= 10 { return String(format: "%.1f ms", value) }
            return String(format: "%.2f ms", value)
        default: return unit.format(value)
        }
    }

    /// `p<0.001`, `p=0.0312`, `p=0.41`; with `spaced`, `p < 0.001`, `p = 0.41`; `p n/a`.
    public static func p(_ value: Double?, spaced: Bool = false) -> String {
        guard let value else { return "p n/a" }
        let operatorText = spaced ? " = " : "="
        if value < 0.001 { return spaced ? "p < 0.001" : "p<0.001" }
        return "p" + operatorText + String(format: value < 0.1 ? "%.4f" : "%.2f", value)
    }

    /// `5`, `1.8`, `2.25`: at most `maximumFractionDigits`, trailing zeros dropped.
    public static func trimmed(_ value: Double, maximumFractionDigits: Int = 2) -> String {
        var text = String(format: "%.\(maximumFractionDigits)f", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }
}
