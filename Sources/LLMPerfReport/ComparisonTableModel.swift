import Foundation
import LLMPerfCore

/// A `RunComparison` laid out as one table, shared by the terminal, Markdown and HTML
/// renderers: one row per measure; the baseline's value; then, per candidate, its value, the
/// change, the p-value and the verdict. The value is the p50 for per-request metrics (over
/// every gap for `itl`) and the run-level value for throughput and rates.
struct ComparisonTableModel {
    struct CandidateCell {
        var value: String
        var change: String
        var pValue: String
        var verdict: Verdict
    }

    struct Row {
        var measure: RunMeasure
        /// `ttft p50`, `output_tokens_per_s`, `error_rate`.
        var label: String
        var unit: String
        var baseline: String
        /// One per candidate; nil when that comparison has no such row.
        var candidates: [CandidateCell?]
    }

    var baselineLabel: String
    var candidateLabels: [String]
    var rows: [Row]
    var warnings: [String]
    var alpha: Double

    init(_ comparison: RunComparison) {
        baselineLabel = comparison.runs.first?.label ?? comparison.comparisons.first?.baseline ?? "baseline"
        candidateLabels = comparison.comparisons.map(\.candidate)
        alpha = comparison.options.alpha
        warnings = comparison.warnings.map(\.message)
        var order: [RunMeasure] = []
        for candidate in comparison.comparisons {
            for row in candidate.rows where !order.contains(row.measure) { order.append(row.measure) }
        }
        rows = order.map { measure in
            let found = comparison.comparisons.map { $0.rows.first { $0.measure == measure } }
            let first = found.compactMap { $0 }.first!
            return Row(
                measure: measure, label: ComparisonTableModel.label(measure),
                unit: ComparisonTableModel.unitText(first.unit),
                baseline: ComparisonTableModel.shown(first.baseline, measure: measure, unit: first.unit),
                candidates: found.map { row in
                    row.map {
                        CandidateCell(
                            value: ComparisonTableModel.shown($0.candidate, measure: measure, unit: $0.unit),
                            change: ComparisonTableModel.change($0), pValue: ComparisonTableModel.pValue($0.pValue),
                            verdict: $0.verdict)
                    }
                })
        }
    }

    /// What the table's columns mean, for lines under it.
    var legendLines: [String] {
        [
            "value: p50 per request (every gap for itl); run-level value for throughput and rates",
            "p: Mann-Whitney U (two-proportion z-test for rates) · verdict at α = "
                + DecimalText.trimmed(alpha, fractionDigits: 4) + " · ~ = no significant change",
        ]
    }

    static func label(_ measure: RunMeasure) -> String {
        if case .metric = measure { return "\(measure.key) p50" }
        return measure.key
    }

    static func unitText(_ unit: MeasureUnit) -> String {
        unit == .fraction ? "%" : unit.rawValue
    }

    static func isRunLevel(_ measure: RunMeasure) -> Bool {
        if case .metric = measure { return false }
        return true
    }

    static func shown(_ stats: RowStatistics, measure: RunMeasure, unit: MeasureUnit) -> String {
        let value = isRunLevel(measure) ? (stats.value ?? stats.mean) : stats.p50
        guard let value else { return "–" }
        return number(value, unit: unit)
    }

    static func number(_ value: Double, unit: MeasureUnit) -> String {
        switch unit {
        case .milliseconds: return Formatting.milliseconds(value)
        case .tokens: return Formatting.number(value)
        case .tokensPerSecond: return String(format: "%.1f", value)
        case .requestsPerSecond: return String(format: "%.2f", value)
        case .fraction: return String(format: "%.2f", value * 100)
        }
    }

    static func change(_ row: ComparisonRow) -> String {
        let change = isRunLevel(row.measure) ? row.valueChange : row.p50Change
        guard let change else { return "–" }
        if row.unit == .fraction {
            return String(format: "%+.2f pp", change.absolute * 100)
        }
        if let relative = change.relative { return Formatting.signedPercent(relative) }
        if change.absolute == 0 { return "0" }
        return (change.absolute > 0 ? "+" : "") + number(change.absolute, unit: row.unit)
    }

    /// `0.82` from 0.1 up, `0.0498` below (so a p just under α never reads as α), `<0.001`.
    static func pValue(_ p: Double?) -> String {
        guard let p else { return "–" }
        if p < 0.001 { return "<0.001" }
        return String(format: p < 0.1 ? "%.4f" : "%.2f", p)
    }
}
