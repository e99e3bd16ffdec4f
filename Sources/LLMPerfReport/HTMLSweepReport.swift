import Foundation
import LLMPerfCore

/// The HTML report of one sweep, or of several overlaid (the first the baseline): latency against load
/// (p50 solid and p99 dashed, each point with its 95% bootstrap interval), throughput against load, the
/// throughput-against-interactivity frontier (total output tokens/s against tokens/s per user), each
/// sweep's capacity marked, and each sweep's table. Self-contained like the run report.
public enum HTMLSweepReport {
    static func h(_ text: String) -> String { HTMLEscaping.escape(text) }

    public static func render(_ sweeps: [SweepResult]) -> String {
        var page = HTMLPage()
        let title =
            sweeps.count == 1
            ? "llmperf sweep \(sweeps[0].record.name)"
            : "llmperf sweeps " + sweeps.map(\.record.name).joined(separator: " vs ")
        page.open(title: title)
        page += "<header><h1>\(h(title))</h1><p class=\"subtitle\">"
        page +=
            sweeps.count == 1
            ? "1 sweep" : "\(sweeps.count) sweeps overlaid (the first is the baseline)"
        page += " · llmperf \(h(LLMPerfVersion.current))</p></header>"
        page += "<section id=\"capacity\"><h2>Capacity</h2>"
        for (index, sweep) in sweeps.enumerated() {
            page += "<h3>\(h(label(sweep, index: index)))</h3><ul>"
            for line in SweepText.summaryLines(sweep) { page += "<li>\(h(line))</li>" }
            page += "</ul>"
        }
        page += "</section>"
        page += curves(sweeps)
        page += "<section id=\"points\"><h2>Points</h2>"
        for (index, sweep) in sweeps.enumerated() {
            page += "<h3>\(h(label(sweep, index: index)))</h3>" + table(sweep)
        }
        page += "</section>"
        page.close()
        return page.text
    }

    static func label(_ sweep: SweepResult, index: Int) -> String {
        "\(sweep.record.name) (\(sweep.record.batchID), \(sweep.record.startedAt.formatted(.iso8601)))"
    }

    /// What a series of sweep `index` is called before its statistic: nothing for one sweep, the sweeps'
    /// names when they differ (a lab's variants), else their numbers.
    static func prefix(_ sweeps: [SweepResult], _ index: Int) -> String {
        guard sweeps.count > 1 else { return "" }
        let names = sweeps.map(\.record.name)
        return Set(names).count == names.count ? "\(names[index]) " : "\(index + 1). "
    }

    static func curves(_ sweeps: [SweepResult]) -> String {
        let over = sweeps[0].record.over
        let loads = sweeps.flatMap { $0.points.map(\.load) }
        guard let low = loads.min(), let high = loads.max() else {
            return "<section id=\"curves\"><h2>Curves</h2><p class=\"note\">No completed point.</p></section>"
        }
        // Loads that double (a search, 1,2,4,…) read best on a log scale; a short even list on a linear one.
        let xAxis =
            high / low >= 8 ? ChartAxis.powersOfTwo(low: low, high: high) : ChartAxis.nice(low: 0, high: high)
        let xLabel = over == .concurrency ? "concurrency" : "request rate (per second)"
        let capacityGuides: [SVGLineChart.Guide] = sweeps.enumerated().compactMap { index, sweep in
            sweep.capacity.map {
                .init(y: $0.load, label: sweeps.count == 1 ? "capacity" : "capacity \(prefix(sweeps, index))")
            }
        }
        var out = "<section id=\"curves\"><h2>Curves</h2><div class=\"charts\">"
        for (metric, name) in [(Metric.ttft, "TTFT"), (.tpot, "TPOT")] {
            var series: [SVGLineChart.Series] = []
            var top = 0.0
            for (index, sweep) in sweeps.enumerated() {
                let color = ChartPalette.color(run: index)
                for (quantile, dashed) in [("p50", false), ("p99", true)] {
                    var points: [(x: Double, y: Double)] = []
                    var bars: [(x: Double, low: Double, high: Double)] = []
                    for point in sweep.points {
                        let summary = metric == .ttft ? point.ttft : point.tpot
                        let interval: BootstrapInterval?
                        switch (metric, quantile) {
                        case (.ttft, "p50"): interval = point.ttftP50Interval
                        case (.ttft, _): interval = point.ttftP99Interval
                        case (_, "p50"): interval = point.tpotP50Interval
                        default: interval = point.tpotP99Interval
                        }
                        guard let value = summary?.statistic(quantile) else { continue }
                        points.append((point.load, value))
                        top = max(top, value)
                        if let interval {
                            bars.append((point.load, interval.lower, interval.upper))
                            top = max(top, interval.upper)
                        }
                    }
                    series.append(
                        SVGLineChart.Series(
                            name: "\(prefix(sweeps, index))\(name) \(quantile)", color: color,
                            points: points, errorBars: bars, dashed: dashed))
                }
            }
            let chart = SVGLineChart(
                identifier: "sweep-\(metric.rawValue)", title: "\(name) against load", xLabel: xLabel,
                yLabel: "\(name) (ms)", xAxis: xAxis, yAxis: .nice(low: 0, high: max(top, 1)), series: series,
                verticalGuides: capacityGuides)
            out += "<div class=\"chart-card\"><h3>\(name) against load</h3>"
            out += "<p class=\"note\">p50 solid, p99 dashed; bars: 95% bootstrap interval</p>" + chart.render()
            out += "</div>"
        }
        // Throughput against load.
        var throughput: [SVGLineChart.Series] = []
        var topRate = 0.0
        for (index, sweep) in sweeps.enumerated() {
            let points = sweep.points.map { (x: $0.load, y: $0.requestsPerSecond) }
            topRate = max(topRate, points.map(\.y).max() ?? 0)
            throughput.append(
                SVGLineChart.Series(
                    name: "\(prefix(sweeps, index))requests/s",
                    color: ChartPalette.color(run: index),
                    points: points))
        }
        out += "<div class=\"chart-card\"><h3>Throughput against load</h3>"
        out +=
            SVGLineChart(
                identifier: "sweep-throughput", title: "Requests per second against load", xLabel: xLabel,
                yLabel: "requests/s", xAxis: xAxis, yAxis: .nice(low: 0, high: max(topRate, 1)), series: throughput,
                verticalGuides: capacityGuides
            ).render() + "</div>"
        // The frontier: what each user gets against what the deployment serves in total.
        var frontier: [SVGLineChart.Series] = []
        var (maxUser, maxTotal) = (0.0, 0.0)
        for (index, sweep) in sweeps.enumerated() {
            let points = sweep.points.compactMap { point in
                point.tokensPerSecondPerUser.map { (x: $0, y: point.outputTokensPerSecond) }
            }.sorted { $0.x < $1.x }
            maxUser = max(maxUser, points.map(\.x).max() ?? 0)
            maxTotal = max(maxTotal, points.map(\.y).max() ?? 0)
            frontier.append(
                SVGLineChart.Series(
                    name: "\(prefix(sweeps, index))output tokens/s",
                    color: ChartPalette.color(run: index), points: points, errorBars: []))
        }
        out += "<div class=\"chart-card\"><h3>Throughput against interactivity</h3>"
        out += "<p class=\"note\">each point a load: total output tokens/s against one user's tokens/s (1000 / TPOT, "
        out += "median); up and to the right is better</p>"
        out +=
            SVGLineChart(
                identifier: "sweep-frontier",
                title: "Total output tokens per second against tokens per second per user",
                xLabel: "tokens/s per user", yLabel: "output tokens/s (total)",
                xAxis: .nice(low: 0, high: max(maxUser, 1)), yAxis: .nice(low: 0, high: max(maxTotal, 1)),
                series: frontier
            ).render() + "</div>"
        out += "</div></section>"
        return out
    }

    static func table(_ sweep: SweepResult) -> String {
        var out = "<table><thead><tr>"
        for header in SweepText.headers + ["marks"] { out += "<th>\(h(header))</th>" }
        out += "</tr></thead><tbody>"
        for point in sweep.points {
            out += "<tr>"
            for cell in SweepText.cells(point) + [SweepText.marks(point, in: sweep).joined(separator: ", ")] {
                out += "<td>\(h(cell))</td>"
            }
            out += "</tr>"
        }
        return out + "</tbody></table>"
    }
}
