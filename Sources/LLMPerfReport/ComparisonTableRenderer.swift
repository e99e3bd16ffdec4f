import Foundation
import LLMPerfCore

/// `llmperf compare` in a terminal: the baseline against every candidate, verdicts colored
/// (better green, worse red, `~` and `n/a` dim) when the style allows color, then the warnings.
/// More than `candidatesPerTable` candidates are split over several tables to stay readable.
public enum ComparisonTableRenderer {
    public static let candidatesPerTable = 3

    public static func render(_ comparison: RunComparison, style: TerminalStyle) -> String {
        let model = ComparisonTableModel(comparison)
        var out = style.apply(.bold, "baseline: \(model.baselineLabel)") + "\n"
        var start = 0
        repeat {
            let end = min(start + candidatesPerTable, model.candidateLabels.count)
            out += "\n" + table(model, candidates: start..<end, style: style)
            start = end
        } while start < model.candidateLabels.count
        for line in model.legendLines { out += style.apply(.dim, line) + "\n" }
        if !model.warnings.isEmpty {
            out += "\n"
            for warning in model.warnings { out += style.apply(.yellow, "warning: \(warning)") + "\n" }
        }
        return out
    }

    static func table(_ model: ComparisonTableModel, candidates: Range<Int>, style: TerminalStyle) -> String {
        var headers = ["metric", "unit", model.baselineLabel]
        for index in candidates { headers += [model.candidateLabels[index], "change", "p", "verdict"] }
        // metric and unit left, numbers right, verdicts left
        let alignments = headers.indices.map { i -> TextTable.Alignment in
            i < 2 || (i > 2 && (i - 2) % 4 == 0) ? .left : .right
        }
        var table = TextTable(headers: headers, alignments: alignments)
        for row in model.rows {
            var cells = [TextTable.Cell(row.label), TextTable.Cell(row.unit), TextTable.Cell(row.baseline)]
            for index in candidates {
                guard let cell = row.candidates[index] else {
                    cells += [TextTable.Cell("–"), TextTable.Cell(""), TextTable.Cell(""), TextTable.Cell("")]
                    continue
                }
                let verdictStyle = self.style(of: cell.verdict)
                cells += [
                    TextTable.Cell(cell.value), TextTable.Cell(cell.change, style: verdictStyle),
                    TextTable.Cell(cell.pValue), TextTable.Cell(cell.verdict.symbol, style: verdictStyle),
                ]
            }
            table.add(cells)
        }
        return table.render(style: style)
    }

    static func style(of verdict: Verdict) -> TerminalStyle.Style {
        switch verdict {
        case .better: return .green
        case .worse: return .red
        case .noChange, .notComparable: return .dim
        }
    }
}
