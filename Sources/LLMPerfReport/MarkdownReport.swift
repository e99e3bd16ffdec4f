import Foundation
import LLMPerfCore

/// `report --format md`: each run's summary table, the comparison table with its warnings
/// when several runs are given, where the time went in each run and where it moved between them when the
/// server reported its own phases. GitHub-flavored Markdown (pipe tables); every recorded text
/// is escaped; then the gate results when given (`GateMarkdown`, which a CI step can also
/// write alone to `$GITHUB_STEP_SUMMARY`).
public enum MarkdownReport {
    public static func render(_ input: ReportInput) -> String {
        var out = "# \(MarkdownText.escape(input.title))\n"
        for run in input.runs { out += "\n" + runSection(run) }
        if let comparison = input.comparison { out += "\n" + comparisonSection(comparison) }
        let moved = BreakdownComparisonText.markdown(
            BreakdownComparison.pairs(
                labels: input.runs.map(\.label), breakdowns: input.runs.map(\.breakdown)))
        if !moved.isEmpty { out += "\n" + moved }
        if let gate = input.gate { out += "\n" + GateMarkdown.render(gate, run: input.runs.last?.label) }
        return out
    }

    /// One run: its metadata, summary table, throughput and errors.
    public static func runSection(_ run: ReportRun) -> String {
        let info = run.info
        let summary = run.summary
        var out = "## \(MarkdownText.escape(info.displayName)) (`\(code(info.id))`)\n\n"
        var facts = ["status \(info.status.rawValue)"]
        if !info.model.isEmpty { facts.append("model `\(code(info.model))`") }
        if !info.targetURL.isEmpty { facts.append("target `\(code(info.targetURL))`") }
        if !info.loadDescription.isEmpty { facts.append("load `\(code(info.loadDescription))`") }
        facts.append("started \(ISO8601DateFormatter().string(from: info.startedAt))")
        if !info.labels.isEmpty {
            facts.append("labels " + info.labels.map { "`\(code($0))`" }.joined(separator: ", "))
        }
        out += facts.joined(separator: " · ") + "\n\n"
        if let line = ShardTable.line(info) { out += MarkdownText.escape(line) + "\n\n" }
        let shards = ShardThroughput.of(info, traces: run.traces)
        if !shards.isEmpty {
            out +=
                MarkdownText.table(
                    headers: ShardTable.headers, rightAligned: ShardTable.headers.indices.map { $0 != 1 },
                    rows: ShardTable.rows(shards)) + "\n"
        }
        let order = ReportMetrics.summaryOrder(summary)
        if order.isEmpty {
            out += "_No successful requests: no latency statistics._\n\n"
        } else {
            let headers = ["metric", "unit", "p50", "p90", "p95", "p99", "mean", "min", "max", "n"]
            let rows = order.map { metric -> [String] in
                let s = summary.metrics[metric]!
                let f = { (v: Double) in Formatting.value(v, unit: metric.unit) }
                return [
                    metric.rawValue, metric.unit.rawValue, f(s.p50), f(s.p90), f(s.p95), f(s.p99), f(s.mean), f(s.min),
                    f(s.max), String(s.count),
                ]
            }
            out +=
                MarkdownText.table(
                    headers: headers, rightAligned: headers.indices.map { $0 >= 2 && $0 != 1 }, rows: rows) + "\n"
        }
        out += String(
            format: "**Requests** %d ok, %d failed (%@), %d warmup · window %.2f s  \n", summary.succeeded,
            summary.failed, Formatting.percent(summary.errorRate), summary.warmup, summary.windowSeconds)
        out += String(
            format: "**Throughput** %.1f output tokens/s, %.2f requests/s · %d output tokens\n",
            summary.outputTokensPerSecond, summary.requestsPerSecond, summary.totalOutputTokens)
        if summary.succeeded > 0 && summary.outputTokensFromUsage < summary.succeeded {
            let estimated = summary.succeeded - summary.outputTokensFromUsage
            out +=
                "\n> Output tokens of \(estimated) request\(estimated == 1 ? "" : "s") were counted from stream "
                + "chunks (the server sent no usage): an estimate.\n"
        }
        if !summary.errorsByKind.isEmpty {
            out += "\n**Errors**\n\n"
            let rows = summary.errorsByKind.sorted { $0.key < $1.key }.map { [$0.key, String($0.value)] }
            out += MarkdownText.table(headers: ["kind", "count"], rightAligned: [false, true], rows: rows)
        }
        if let breakdown = run.breakdown { out += "\n" + BreakdownText.markdown(breakdown) }
        return out
    }

    /// The comparison table (baseline, then value, change, p-value and verdict per candidate),
    /// its legend and warnings.
    public static func comparisonSection(_ comparison: RunComparison) -> String {
        let model = ComparisonTableModel(comparison)
        var out = "## Comparison\n\nBaseline: **\(MarkdownText.escape(model.baselineLabel))**\n\n"
        var headers = ["metric", "unit", model.baselineLabel]
        for label in model.candidateLabels { headers += [label, "change", "p", "verdict"] }
        let rows = model.rows.map { row -> [String] in
            var cells = [row.label, row.unit, row.baseline]
            for cell in row.candidates {
                guard let cell else {
                    cells += ["–", "", "", ""]
                    continue
                }
                let verdict: String
                switch cell.verdict {
                case .better: verdict = "✅ better"
                case .worse: verdict = "❌ worse"
                case .noChange: verdict = "~"
                case .notComparable: verdict = "n/a"
                }
                cells += [cell.value, cell.change, cell.pValue, verdict]
            }
            return cells
        }
        // metric and unit left, numbers right, verdicts left
        let alignment = headers.indices.map { $0 >= 2 && ($0 - 2) % 4 != 0 || $0 == 2 }
        out += MarkdownText.table(headers: headers, rightAligned: alignment, rows: rows)
        out += "\n" + model.legendLines.map { "_\(MarkdownText.escape($0))_" }.joined(separator: "  \n") + "\n"
        if !model.warnings.isEmpty {
            out += "\n**Warnings**\n\n"
            for warning in model.warnings { out += "- ⚠️ \(MarkdownText.escape(warning))\n" }
        }
        return out
    }

    /// Text inside a code span: backticks cannot be escaped there, so they become `'`.
    static func code(_ text: String) -> String {
        text.replacingOccurrences(of: "`", with: "'").replacingOccurrences(of: "\n", with: " ")
            .replacingOccurrences(of: "|", with: "\\|")
    }
}
