import Foundation
import LLMPerfCore

/// The gate as JUnit XML for CI systems (GitHub, GitLab, Jenkins): one `testsuite` with one
/// `testcase` per rule; a failed rule has a `failure` element whose `message` is the reason
/// and whose text gives the measured value, threshold, baseline and p-value. Every text is
/// escaped for XML (attributes keep line breaks as character references).
public enum JUnitReport {
    /// `suite`: the suite's name, e.g. `llmperf gate: name (r7f3a2c)`.
    public static func render(_ gate: GateEvaluation, suite: String = "llmperf gate") -> String {
        let failures = gate.results.filter { !$0.passed }.count
        let count = gate.results.count
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out +=
            "<testsuites name=\"\(attribute(suite))\" tests=\"\(count)\" failures=\"\(failures)\" errors=\"0\" time=\"0\">\n"
        out += "  <testsuite name=\"\(attribute(suite))\" tests=\"\(count)\" failures=\"\(failures)\" errors=\"0\" "
        out += "skipped=\"0\" time=\"0\">\n"
        for result in gate.results {
            out += "    <testcase classname=\"llmperf.gate\" name=\"\(attribute(result.rule))\" time=\"0\""
            if result.passed {
                out += ">\n      <system-out>\(HTMLEscaping.escape(result.reason))</system-out>\n    </testcase>\n"
                continue
            }
            out += ">\n      <failure message=\"\(attribute(result.reason))\" type=\"gate\">"
            out += HTMLEscaping.escape(details(result)) + "</failure>\n    </testcase>\n"
        }
        out += "  </testsuite>\n</testsuites>\n"
        return out
    }

    static func details(_ result: GateEvaluation.Result) -> String {
        var lines = [
            result.reason, "rule: \(result.rule)", "measured: \(result.measuredText)", "threshold: \(result.threshold)",
        ]
        if let base = result.baselineValue { lines.append("baseline: \(DecimalText.trimmed(base, fractionDigits: 6))") }
        if let change = result.relativeChange, change.isFinite {
            lines.append("change: \(Formatting.signedPercent(change))")
        }
        if let p = result.pValue { lines.append("p-value: \(ComparisonTableModel.pValue(p))") }
        return lines.joined(separator: "\n")
    }

    /// Escaped for a double-quoted attribute; line breaks and tabs survive attribute
    /// normalization as character references.
    static func attribute(_ text: String) -> String {
        HTMLEscaping.escape(text).replacingOccurrences(of: "\r", with: "&#13;")
            .replacingOccurrences(of: "\n", with: "&#10;").replacingOccurrences(of: "\t", with: "&#9;")
    }
}
