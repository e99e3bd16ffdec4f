import Foundation
import LLMPerfCore

/// The report page's table sections: overview, comparison, gate, per-run summaries, errors by kind,
/// and each run's metadata with its scenario.
enum HTMLRunSections {
    static func h(_ text: String) -> String { HTMLEscaping.escape(text) }

    static func overview(_ runs: [ReportRun]) -> String {
        var out = "<section id=\"runs\"><h2>Runs</h2><div class=\"card\"><table><thead><tr>"
        for header in [
            "run", "id", "status", "model", "requests", "ok", "failed", "error rate", "window (s)", "output tokens/s",
            "requests/s",
        ] {
            out +=
                ["id", "status", "model"].contains(header) ? "<th class=\"text\">\(header)</th>" : "<th>\(header)</th>"
        }
        out += "</tr></thead><tbody>"
        for (index, run) in runs.enumerated() {
            let s = run.summary
            out += "<tr><td>\(HTMLReport.swatch(index))\(h(run.info.displayName))</td>"
            out +=
                "<td class=\"text\"><code>\(h(run.info.id))</code></td><td class=\"text\">\(run.info.status.rawValue)</td>"
            out += "<td class=\"text\">\(h(run.info.model))</td><td>\(s.requests)</td><td>\(s.succeeded)</td>"
            out += "<td>\(s.failed)</td><td>\(Formatting.percent(s.errorRate))</td>"
            out += "<td>\(String(format: "%.2f", s.windowSeconds))</td>"
            out += "<td>\(String(format: "%.1f", s.outputTokensPerSecond))</td>"
            out += "<td>\(String(format: "%.2f", s.requestsPerSecond))</td></tr>"
        }
        return out + "</tbody></table></div></section>"
    }

    static func comparison(_ comparison: RunComparison) -> String {
        let model = ComparisonTableModel(comparison)
        var out =
            "<section id=\"comparison\"><h2>Comparison</h2><p>Baseline: <strong>\(h(model.baselineLabel))</strong></p>"
        for warning in model.warnings { out += "<p class=\"warning\">⚠ \(h(warning))</p>" }
        out += "<div class=\"card\"><table><thead><tr><th>metric</th><th class=\"text\">unit</th>"
        out += "<th>\(h(model.baselineLabel))</th>"
        for label in model.candidateLabels {
            out += "<th>\(h(label))</th><th>change</th><th>p</th><th>verdict</th>"
        }
        out += "</tr></thead><tbody>"
        for row in model.rows {
            out += "<tr><td>\(h(row.label))</td><td class=\"text\">\(h(row.unit))</td><td>\(h(row.baseline))</td>"
            for cell in row.candidates {
                guard let cell else {
                    out += "<td>–</td><td></td><td></td><td></td>"
                    continue
                }
                let css: String
                switch cell.verdict {
                case .better: css = "verdict-better"
                case .worse: css = "verdict-worse"
                case .noChange, .notComparable: css = "verdict-same"
                }
                out += "<td>\(h(cell.value))</td><td class=\"\(css)\">\(h(cell.change))</td><td>\(h(cell.pValue))</td>"
                out += "<td class=\"\(css)\">\(h(cell.verdict.symbol))</td>"
            }
            out += "</tr>"
        }
        out += "</tbody></table><p class=\"note\">\(model.legendLines.map(h).joined(separator: "<br>"))</p></div>"
        for candidate in comparison.comparisons {
            out += comparisonDetails(candidate, confidence: comparison.options.confidence)
        }
        return out + "</section>"
    }

    /// Per candidate, collapsed: both runs' p50/p90/p99/mean and the bootstrap intervals of the
    /// p50 and p95 differences.
    static func comparisonDetails(_ candidate: CandidateComparison, confidence: Double) -> String {
        let level = DecimalText.trimmed(confidence * 100, fractionDigits: 1) + "%"
        var out = "<details class=\"card\"><summary>Details: \(h(candidate.baseline)) → \(h(candidate.candidate))"
        out += "</summary><table><thead><tr><th>metric</th><th class=\"text\">tested on</th><th>n</th>"
        for statistic in ["p50", "p90", "p99", "mean"] { out += "<th>\(statistic)</th>" }
        out += "<th>Δ p50 (\(level) CI)</th><th>Δ p95 (\(level) CI)</th><th>p</th></tr></thead><tbody>"
        for row in candidate.rows {
            let f = { (v: Double?) in v.map { ComparisonTableModel.number($0, unit: row.unit) } ?? "–" }
            let pair = { (a: Double?, b: Double?) in h(f(a)) + " → " + h(f(b)) }
            out += "<tr><td>\(h(row.measure.key))</td><td class=\"text\">\(h(row.testedOn))</td>"
            out += "<td>\(row.baseline.count) → \(row.candidate.count)</td>"
            out +=
                "<td>\(pair(row.baseline.p50, row.candidate.p50))</td><td>\(pair(row.baseline.p90, row.candidate.p90))</td>"
            out +=
                "<td>\(pair(row.baseline.p99, row.candidate.p99))</td><td>\(pair(row.baseline.mean, row.candidate.mean))</td>"
            for interval in [row.p50Difference, row.p95Difference] {
                guard let interval else {
                    out += "<td>–</td>"
                    continue
                }
                out += "<td>\(h(f(interval.estimate))) [\(h(f(interval.lower))), \(h(f(interval.upper)))]</td>"
            }
            out += "<td>\(h(ComparisonTableModel.pValue(row.pValue)))</td></tr>"
        }
        return out + "</tbody></table></details>"
    }

    static func gate(_ gate: GateEvaluation) -> String {
        var out = "<section id=\"gate\"><h2>Gate: "
        out +=
            gate.passed ? "<span class=\"verdict-better\">passed</span>" : "<span class=\"verdict-worse\">failed</span>"
        out += "</h2><div class=\"card\"><table><thead><tr><th>result</th><th class=\"text\">rule</th><th>measured</th>"
        out += "<th class=\"text\">threshold</th><th>p</th><th class=\"text\">reason</th></tr></thead><tbody>"
        for result in gate.results {
            let css = result.passed ? "verdict-better" : "verdict-worse"
            out += "<tr><td class=\"\(css)\">\(result.passed ? "pass" : "fail")</td><td class=\"text\"><code>"
            out +=
                "\(h(result.rule))</code></td><td>\(h(result.measuredText))</td><td class=\"text\">\(h(result.threshold))</td>"
            out += "<td>\(result.pValue.map { ComparisonTableModel.pValue($0) } ?? "")</td>"
            out += "<td class=\"detail\">\(h(result.reason))</td></tr>"
        }
        return out + "</tbody></table></div></section>"
    }

    static func summaries(_ runs: [ReportRun]) -> String {
        var out = "<section id=\"summary\"><h2>Summary</h2>"
        for (index, run) in runs.enumerated() {
            let s = run.summary
            out += "<div class=\"card\"><h3>\(HTMLReport.swatch(index))\(h(run.label))</h3>"
            let order = ReportMetrics.summaryOrder(s)
            if order.isEmpty {
                out += "<p class=\"note\">No successful requests: no latency statistics.</p>"
            } else {
                out += "<table><thead><tr>"
                for header in ["metric", "unit", "p50", "p90", "p95", "p99", "mean", "min", "max", "stddev", "n"] {
                    out += "<th>\(header)</th>"
                }
                out += "</tr></thead><tbody>"
                for metric in order {
                    let d = s.metrics[metric]!
                    out += "<tr><td>\(metric.rawValue)</td><td class=\"text\">\(metric.unit.rawValue)</td>"
                    for value in [d.p50, d.p90, d.p95, d.p99, d.mean, d.min, d.max, d.stddev] {
                        out += "<td>\(Formatting.value(value, unit: metric.unit))</td>"
                    }
                    out += "<td>\(d.count)</td></tr>"
                }
                out += "</tbody></table>"
            }
            out += "<p class=\"note\">"
            out += String(
                format:
                    "%d ok, %d failed (%@), %d warmup · window %.2f s · %.1f output tokens/s · %.2f requests/s · %d output tokens",
                s.succeeded, s.failed, Formatting.percent(s.errorRate), s.warmup, s.windowSeconds,
                s.outputTokensPerSecond,
                s.requestsPerSecond, s.totalOutputTokens)
            if s.succeeded > 0 && s.outputTokensFromUsage < s.succeeded {
                out += " (counted from chunks for \(s.succeeded - s.outputTokensFromUsage) requests: an estimate)"
            }
            out += "</p>"
            out += shardTable(run)
            out += "</div>"
        }
        return out + "</section>"
    }

    /// A merged run's shards: throughput and clocks, one row each (nothing for another run).
    static func shardTable(_ run: ReportRun) -> String {
        var out = ShardTable.line(run.info).map { "<p class=\"note\">\(h($0))</p>" } ?? ""
        let shards = ShardThroughput.of(run.info, traces: run.traces)
        guard !shards.isEmpty else { return out }
        out += "<table class=\"shards\"><thead><tr>"
        for header in ShardTable.headers { out += "<th>\(h(header))</th>" }
        out += "</tr></thead><tbody>"
        for row in ShardTable.rows(shards) {
            out += "<tr>"
            for (i, cell) in row.enumerated() {
                out += i == 1 ? "<td class=\"text\">\(h(cell))</td>" : "<td>\(h(cell))</td>"
            }
            out += "</tr>"
        }
        return out + "</tbody></table>"
    }

    static func errors(_ runs: [ReportRun]) -> String {
        var kinds = Set<String>()
        for run in runs { kinds.formUnion(run.summary.errorsByKind.keys) }
        var out = "<section id=\"errors\"><h2>Errors by kind</h2>"
        guard !kinds.isEmpty else { return out + "<p class=\"note\">No failed requests.</p></section>" }
        // The first detail recorded for each kind, per run.
        var examples: [[String: String]] = []
        for run in runs {
            var found: [String: String] = [:]
            for trace in run.traces where !trace.isWarmup {
                guard let kind = trace.outcome.failureKind?.code, found[kind] == nil else { continue }
                found[kind] = trace.outcome.detail
                if found.count == run.summary.errorsByKind.count { break }
            }
            examples.append(found)
        }
        out += "<div class=\"card\"><table><thead><tr><th>kind</th>"
        for (index, run) in runs.enumerated() {
            out += "<th>\(HTMLReport.swatch(index))\(h(run.info.displayName))</th>"
        }
        out += "<th class=\"text\">example</th></tr></thead><tbody>"
        for kind in kinds.sorted() {
            out += "<tr><td><code>\(h(kind))</code></td>"
            for run in runs {
                let count = run.summary.errorsByKind[kind] ?? 0
                let share = run.summary.requests > 0 ? Double(count) / Double(run.summary.requests) : 0
                let width = count > 0 ? max(2, Int((share * 120).rounded())) : 0
                out += "<td>\(count) (\(Formatting.percent(share)))"
                if width > 0 { out += " <span class=\"bar\" style=\"width:\(width)px\"></span>" }
                out += "</td>"
            }
            let example = examples.compactMap { $0[kind] }.first { !$0.isEmpty } ?? ""
            out += "<td class=\"detail\">\(h(SVGLineChart.shortened(example, to: 300)))</td></tr>"
        }
        return out + "</tbody></table></div></section>"
    }

    static func details(_ runs: [ReportRun]) -> String {
        var out = "<section id=\"details\"><h2>Run details</h2>"
        let iso = ISO8601DateFormatter()
        for (index, run) in runs.enumerated() {
            let info = run.info
            out += "<div class=\"card\"><h3>\(HTMLReport.swatch(index))\(h(run.label))</h3><dl class=\"facts\">"
            var facts: [(String, String)] = [
                ("status", info.status.rawValue), ("target", info.targetURL), ("api", info.api), ("model", info.model),
                ("load", info.loadDescription), ("max tokens", info.maxTokens.map(String.init) ?? ""),
                ("started", iso.string(from: info.startedAt)), ("ended", info.endedAt.map(iso.string(from:)) ?? ""),
                ("labels", info.labels.joined(separator: ", ")), ("scenario", info.scenarioPath),
                ("scenario hash", info.scenarioHash), ("prompt set hash", info.promptSetHash), ("host", info.host),
                ("git commit", info.gitCommit ?? ""), ("llmperf", info.toolVersion), ("batch", info.batchID),
            ]
            facts = facts.filter { !$0.1.isEmpty }
            for (key, value) in facts { out += "<dt>\(h(key))</dt><dd>\(h(value))</dd>" }
            out += "</dl>"
            if !info.scenarioYAML.isEmpty {
                out += "<details><summary>Scenario (redacted)</summary><pre>\(h(info.scenarioYAML))</pre></details>"
            }
            out += "</div>"
        }
        return out + "</section>"
    }
}
