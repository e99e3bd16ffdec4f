import Foundation
import LLMPerfCore

/// `report --format html`: one self-contained page (inline CSS and SVG, no script, no font,
/// image or style sheet from anywhere; a Content-Security-Policy forbids loading any) with
/// the runs' overview, the comparison when several runs are given, the gate's results, CDF charts of TTFT, TPOT,
/// ITL and E2E with the runs overlaid, output tokens/s and requests in flight over time,
/// each run's summary table, where the time went when the server reported its own phases (the median
/// bar, the breakdown of a sample of requests, and what moved between runs), a phase waterfall of a sample of requests, errors by kind, and
/// each run's metadata and (already redacted) scenario. Every recorded text is escaped.
public enum HTMLReport {
    public struct Options: Sendable {
        /// Requests shown in each run's waterfall (and in its breakdown's).
        public var waterfallRequests: Int
        /// Of those, the slowest shown in a breakdown's waterfall (the rest an even spread).
        public var breakdownSlowest: Int

        public init(waterfallRequests: Int = 50, breakdownSlowest: Int = 10) {
            self.waterfallRequests = waterfallRequests
            self.breakdownSlowest = breakdownSlowest
        }
    }

    public static let cdfMetrics: [Metric] = [.ttft, .tpot, .itl, .e2e]

    public static func render(_ input: ReportInput, options: Options = Options()) -> String {
        var page = HTMLPage()
        page.open(title: input.title)
        page += "<header><h1>\(h(input.title))</h1><p class=\"subtitle\">"
        page += input.runs.count == 1 ? "1 run" : "\(input.runs.count) runs (the first is the baseline)"
        page += " · llmperf \(h(LLMPerfVersion.current))</p></header>"
        page += HTMLRunSections.overview(input.runs)
        if let comparison = input.comparison { page += HTMLRunSections.comparison(comparison) }
        if let gate = input.gate { page += HTMLRunSections.gate(gate) }
        page += distributions(input.runs)
        page += overTime(input.runs)
        page += HTMLServerMetrics.section(input.runs)
        page += HTMLRunSections.summaries(input.runs)
        page += HTMLBreakdownSection.render(
            input.runs, sampleSize: options.waterfallRequests, slowest: options.breakdownSlowest)
        page += waterfalls(input.runs, sampleSize: options.waterfallRequests)
        page += HTMLRunSections.errors(input.runs)
        page += HTMLRunSections.details(input.runs)
        page.close()
        return page.text
    }

    // MARK: charts

    static func distributions(_ runs: [ReportRun]) -> String {
        var out = "<section id=\"distributions\"><h2>Latency distributions</h2><div class=\"charts\">"
        let perRun = runs.map { CDFCurve.curves(cdfMetrics, traces: $0.traces) }
        for metric in cdfMetrics {
            let curves = perRun.map { $0[metric] }
            out += "<div class=\"chart-card\"><h3>\(metric.rawValue.uppercased()) CDF</h3>"
            let present = curves.compactMap { $0 }
            guard !present.isEmpty else {
                out +=
                    "<p class=\"note\">No \(metric.rawValue) values in \(runs.count == 1 ? "this run" : "these runs").</p>"
                out +=
                    "<svg class=\"chart\" data-chart=\"cdf-\(metric.rawValue)\" viewBox=\"0 0 560 40\" width=\"560\" "
                out +=
                    "height=\"40\" role=\"img\" aria-label=\"no data\"><text x=\"10\" y=\"24\">no data</text></svg></div>"
                continue
            }
            let low = present.map(\.lowQuantile).min()!
            let high = present.map(\.highQuantile).max()!
            let axis = ChartAxis.nice(low: low, high: high, count: 6)
            var series: [SVGLineChart.Series] = []
            for (index, run) in runs.enumerated() {
                guard let curve = curves[index] else { continue }
                series.append(
                    SVGLineChart.Series(
                        name: run.label, color: ChartPalette.color(run: index), points: curve.clipped(to: axis.upper)))
            }
            var note = "x axis up to the highest p99.9; n = "
            note += curves.map { $0.map { String($0.totalCount) } ?? "0" }.joined(separator: ", ")
            if present.contains(where: { $0.sampledCount < $0.totalCount }) {
                note += "; curves over more than \(CDFCurve.maximumSorted) values use an even sample of them"
            }
            out += "<p class=\"note\">\(h(note))</p>"
            let chart = SVGLineChart(
                identifier: "cdf-\(metric.rawValue)", title: "\(metric.rawValue.uppercased()) cumulative distribution",
                xLabel: "\(metric.rawValue.uppercased()) (ms)", yLabel: "share of values", xAxis: axis,
                yAxis: .fixed(lower: 0, upper: 1, ticks: [0, 0.25, 0.5, 0.75, 1], percent: true), series: series,
                guides: [.init(y: 0.9, label: "p90"), .init(y: 0.99, label: "p99")])
            out += chart.render() + "</div>"
        }
        out += "</div></section>"
        return out
    }

    static func overTime(_ runs: [ReportRun]) -> String {
        let series = runs.map { RunTimeSeries(traces: $0.traces) }
        var out = "<section id=\"over-time\"><h2>Over time</h2>"
        guard series.contains(where: { $0 != nil }) else {
            return out + "<p class=\"note\">No measured requests.</p></section>"
        }
        let longest =
            series.compactMap { s in s.flatMap { s in s.times.last.map { $0 + s.bucketSeconds / 2 } } }.max() ?? 1
        let xAxis = ChartAxis.nice(low: 0, high: longest, count: 8)
        let widths = Set(series.compactMap { $0?.bucketSeconds })
        let bucketNote =
            widths == [1]
            ? "per-second buckets"
            : "buckets of "
                + widths.sorted().map { DecimalText.trimmed($0, fractionDigits: 0) + " s" }.joined(separator: ", ")
        out += "<div class=\"charts\">"
        for (key, title, yLabel) in [
            ("tokens", "Output tokens per second", "output tokens/s"), ("in-flight", "Requests in flight", "requests"),
        ] {
            var lines: [SVGLineChart.Series] = []
            var top = 0.0
            for (index, run) in runs.enumerated() {
                guard let s = series[index] else { continue }
                let values = key == "tokens" ? s.outputTokensPerSecond : s.inFlight
                top = max(top, values.max() ?? 0)
                lines.append(
                    SVGLineChart.Series(
                        name: run.label, color: ChartPalette.color(run: index),
                        points: zip(s.times, values).map { (x: $0.0, y: $0.1) }))
            }
            let chart = SVGLineChart(
                identifier: key, title: title, xLabel: "time since the run's first request (s)", yLabel: yLabel,
                xAxis: xAxis, yAxis: .nice(low: 0, high: max(top, 1), count: 5), series: lines)
            let what = key == "tokens" ? "successful requests' tokens by chunk arrival" : "time-weighted average"
            out += "<div class=\"chart-card\"><h3>\(title)</h3><p class=\"note\">\(h(bucketNote)); \(what)</p>"
            out += chart.render() + "</div>"
        }
        return out + "</div></section>"
    }

    static func waterfalls(_ runs: [ReportRun], sampleSize: Int) -> String {
        var out = "<section id=\"waterfall\"><h2>Request phases</h2>"
        out += "<p class=\"note\">Up to \(sampleSize) requests per run, evenly spaced over the run; hover a row for "
        out += "its numbers and output.</p>"
        for (index, run) in runs.enumerated() {
            let sample = SVGWaterfallChart.sample(run.traces, count: max(1, sampleSize))
            out += "<details class=\"card\"\(index == 0 ? " open" : "")><summary>"
            out += swatch(index) + h(run.label) + " — \(sample.count) of \(run.summary.requests) requests</summary>"
            if sample.isEmpty {
                out += "<p class=\"note\">No measured requests.</p>"
            } else {
                out += SVGWaterfallChart(
                    identifier: "waterfall-\(index)", title: "Request phases of \(run.label)", traces: sample
                ).render()
            }
            out += "</details>"
        }
        return out + "</section>"
    }

    static func swatch(_ index: Int) -> String {
        "<span class=\"swatch\" style=\"background:\(ChartPalette.color(run: index))\"></span>"
    }

    static func h(_ text: String) -> String { HTMLEscaping.escape(text) }
}
