import Foundation
import LLMPerfCore

/// The gate's results as a Markdown section, for `$GITHUB_STEP_SUMMARY` or a PR comment:
/// the overall result, then one table row per rule with the measured value, the threshold
/// and the reason.
public enum GateMarkdown {
    /// `run`: how to name the gated run in the heading (e.g. `ReportRun.label`), if at all.
    public static func render(_ gate: GateEvaluation, run: String? = nil) -> String {
        let failed = gate.results.filter { !$0.passed }.count
        var out = "## Gate: " + (gate.passed ? "✅ passed" : "❌ failed")
        if let run { out += " — \(MarkdownText.escape(run))" }
        out += "\n\n"
        if gate.results.isEmpty {
            return out + "_No rules were given._\n"
        }
        out +=
            gate.passed
            ? "All \(gate.results.count) rules passed.\n\n"
            : "\(failed) of \(gate.results.count) rules failed.\n\n"
        let rows = gate.results.map { result -> [String] in
            [
                result.passed ? "✅ pass" : "❌ fail", result.rule, result.measuredText, result.threshold,
                result.pValue.map { ComparisonTableModel.pValue($0) } ?? "", result.reason,
            ]
        }
        out += MarkdownText.table(
            headers: ["result", "rule", "measured", "threshold", "p", "reason"],
            rightAligned: [false, false, true, false, true, false], rows: rows)
        if gate.results.contains(where: { $0.threshold.contains("baseline") }) {
            out +=
                "\n_A regression rule fails only when the change exceeds its limit and is significant "
                + "(Mann-Whitney U, α = \(DecimalText.trimmed(gate.alpha, fractionDigits: 4)))._\n"
        }
        return out
    }
}
