import Foundation
import LLMPerfCore

/// The server's metrics, scraped during each run (`target.metrics`), on the run's time axis: one chart per
/// quantity the server exposes (requests running and waiting, KV-cache usage, batch size, generated tokens
/// per second, its TTFT and queue time as interval means), the runs overlaid; and per run the server's view
/// reconciled with the client's. Times count from the run's first request, as the charts above them do.
enum HTMLServerMetrics {
    static func h(_ text: String) -> String { HTMLEscaping.escape(text) }

    /// What is plotted, in order, with its unit on the y axis and its scale from the series' unit.
    static let plotted: [(meaning: ServerMetricMeaning, yLabel: String, scale: Double)] = [
        (.requestsRunning, "requests", 1), (.requestsWaiting, "requests", 1), (.batchSize, "sequences", 1),
        (.kvCacheUsage, "% of the KV cache", 100), (.generationTokensTotal, "tokens/s", 1),
        (.ttftSeconds, "ms (interval mean)", 1000), (.queueSeconds, "ms (interval mean)", 1000),
    ]

    /// Empty when no run scraped anything.
    static func section(_ runs: [ReportRun]) -> String {
        guard runs.contains(where: { !$0.scrapes.isEmpty }) else { return "" }
        var out = "<section id=\"server-metrics\"><h2>The server's metrics</h2>"
        out += "<p class=\"note\">Scraped from the server's Prometheus endpoint during the run; gauges as read, "
        out += "counters as rates between scrapes, histograms as the mean of each interval's observations.</p>"
        for (index, run) in runs.enumerated() where !run.scrapes.isEmpty {
            let failed = run.scrapes.filter { $0.error != nil }
            out += "<p>" + HTMLReport.swatch(index) + h(run.label) + ": \(run.scrapes.count) scrapes"
            if let last = failed.last?.error { out += ", \(failed.count) failed (last: \(h(last)))" }
            out += "</p>"
        }
        let origins = runs.map { $0.traces.map(\.startedAtNanos).min() ?? 0 }
        var charts = ""
        var longest = 1.0
        var plots: [(title: String, yLabel: String, lines: [SVGLineChart.Series], top: Double)] = []
        for (meaning, yLabel, scale) in plotted {
            var lines: [SVGLineChart.Series] = []
            var top = 0.0
            for (index, run) in runs.enumerated() {
                let points = ServerMetricSeries.series(meaning, from: run.scrapes)
                guard !points.isEmpty else { continue }
                let xy = points.map {
                    (x: (Double($0.atNanos) - Double(origins[index])) / 1e9, y: $0.value * scale)
                }
                top = max(top, xy.map(\.y).max() ?? 0)
                longest = max(longest, xy.map(\.x).max() ?? 0)
                lines.append(SVGLineChart.Series(name: run.label, color: ChartPalette.color(run: index), points: xy))
            }
            if !lines.isEmpty { plots.append((meaning.title, yLabel, lines, top)) }
        }
        guard !plots.isEmpty else {
            return out + "<p class=\"note\">None of the scraped metrics is one llmperf knows; they are stored "
                + "with the run (llmperf report --format json).</p></section>"
        }
        let xAxis = ChartAxis.nice(low: 0, high: longest, count: 8)
        for (number, plot) in plots.enumerated() {
            let chart = SVGLineChart(
                identifier: "server-metric-\(number)", title: plot.title,
                xLabel: "time since the run's first request (s)", yLabel: plot.yLabel, xAxis: xAxis,
                yAxis: .nice(low: 0, high: max(plot.top, 1), count: 5), series: plot.lines)
            charts += "<div class=\"chart-card\"><h3>\(h(plot.title))</h3>" + chart.render() + "</div>"
        }
        out += "<div class=\"charts\">" + charts + "</div>"
        for (index, run) in runs.enumerated() {
            guard let reconciliation = run.reconciliation, !reconciliation.rows.isEmpty else { continue }
            out += "<h3>" + HTMLReport.swatch(index) + h(run.label) + ": the server beside the client</h3>"
            out += "<table><thead><tr><th></th><th>server</th><th>client</th><th>client − server</th></tr></thead>"
            out += "<tbody>"
            for row in reconciliation.rows {
                out += "<tr><td>\(h(row.what))</td>"
                for value in [row.server, row.client] {
                    out += "<td class=\"num\">\(h(ServerMetricsRenderer.text(value, row.unit)))</td>"
                }
                out += "<td class=\"num\">\(h(ServerMetricsRenderer.text(row.difference, row.unit, signed: true)))</td>"
                out += "</tr>"
            }
            out += "</tbody></table>"
        }
        return out + "</section>"
    }
}
