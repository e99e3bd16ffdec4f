import LLMPerfCore

/// What `llmperf gate` prints: a bold header, every rule with its measured value and why it
/// passed or failed, and the verdict line.
public enum GateTable {
    public static func render(_ evaluation: GateEvaluation, header: String, style: TerminalStyle) -> String {
        var out = style.apply(.bold, header) + "\n"
        var table = TextTable(headers: ["", "rule", "measured", "why"], alignments: [.left, .left, .right, .left])
        for result in evaluation.results {
            table.add([
                TextTable.Cell(result.passed ? "pass" : "FAIL", style: result.passed ? .green : .red),
                TextTable.Cell(result.rule), TextTable.Cell(result.measuredText), TextTable.Cell(result.reason),
            ])
        }
        out += table.render(style: style)
        let failed = evaluation.results.filter { !$0.passed }.count
        out +=
            evaluation.passed
            ? style.apply(.green, "gate passed: \(evaluation.results.count) rules")
            : style.apply(.red, "gate failed: \(failed) of \(evaluation.results.count) rules")
        return out + "\n"
    }
}
