import Foundation
import LLMPerfCore

/// A sample of requests' breakdowns, one row per request from its own start: its segments one after the
/// other in waterfall order, in the median bar's colours (`SVGBreakdownBar`), on one time axis. Each
/// row's tooltip (`<title>`) gives every segment's ms. A negative segment (the wire, when the server's
/// clock ran ahead of the client's) takes no room.
struct SVGBreakdownWaterfall {
    struct Row {
        var index: Int
        var breakdown: LatencyBreakdown
    }

    var identifier: String
    var title: String
    var rows: [Row]
    var width: Double = 1100

    /// Up to `count` measured requests that have a breakdown: the `slowest` slowest (whole request), and
    /// the rest evenly spaced over the others (first and last included); in request order. Keeps one
    /// number per request while choosing.
    static func sample(_ traces: [RequestTrace], count: Int, slowest: Int) -> [Row] {
        guard count > 0 else { return [] }
        var candidates: [(position: Int, total: Double)] = []
        for (position, trace) in traces.enumerated() where !trace.isWarmup {
            if let breakdown = LatencyBreakdown.of(trace) { candidates.append((position, breakdown.totalMillis)) }
        }
        var chosen: [Int]
        if candidates.count <= count {
            chosen = candidates.map(\.position)
        } else {
            let slow = Swift.min(slowest, count)
            let bySlowness = candidates.indices.sorted {
                candidates[$0].total != candidates[$1].total
                    ? candidates[$0].total > candidates[$1].total : $0 < $1
            }
            let slowSet = Set(bySlowness.prefix(slow))
            chosen = slowSet.map { candidates[$0].position }
            let others = candidates.indices.filter { !slowSet.contains($0) }
            let spread = count - slow
            if spread == 1 {
                chosen.append(candidates[others[0]].position)
            } else if spread > 1 {
                for k in 0..<spread {
                    let i = Int((Double(k) * Double(others.count - 1) / Double(spread - 1)).rounded())
                    chosen.append(candidates[others[i]].position)
                }
            }
        }
        return Set(chosen).sorted().map { Row(index: traces[$0].index, breakdown: LatencyBreakdown.of(traces[$0])!) }
    }

    func render() -> String {
        let left = 64.0
        let right = 16.0
        let legendEntries = LatencyBreakdown.Segment.allCases.map { ($0, $0.title) }
        let legend = SVGBreakdownBar.legend(legendEntries, left: left, top: 16, width: width - left - right)
        let top = 16 + legend.height + 4
        let rowHeight = 14.0
        let plotWidth = width - left - right
        let plotHeight = Double(rows.count) * rowHeight
        let height = top + plotHeight + 44
        let longest = rows.map { $0.breakdown.millis.reduce(0) { $0 + Swift.max(0, $1) } }.max() ?? 0
        let axis = ChartAxis.nice(low: 0, high: Swift.max(longest, 0.001), count: 8)
        func px(_ msValue: Double) -> Double { left + axis.fraction(msValue) * plotWidth }
        func num(_ v: Double) -> String { DecimalText.trimmed(v, fractionDigits: 2) }
        var svg =
            "<svg class=\"chart waterfall breakdown-waterfall\" data-chart=\"\(HTMLEscaping.escape(identifier))\" "
        svg += "viewBox=\"0 0 " + num(width) + " " + num(height) + "\" width=\"" + num(width) + "\" height=\""
        svg += num(height) + "\" role=\"img\" aria-label=\"\(HTMLEscaping.escape(title))\"><title>"
        svg += HTMLEscaping.escape(title) + "</title>" + legend.svg
        svg += SVGWaterfallChart.timeAxis(
            axis, left: left, top: top, plotWidth: plotWidth, plotHeight: plotHeight, fractionDigits: 2)
        for (n, row) in rows.enumerated() {
            let y = top + Double(n) * rowHeight
            svg += "<g class=\"request\"><title>" + HTMLEscaping.escape(Self.tooltip(row)) + "</title>"
            svg += "<text class=\"row-label\" x=\"" + num(left - 6) + "\" y=\"" + num(y + 10.5)
            svg += "\" text-anchor=\"end\">#" + String(row.index) + "</text>"
            var at = 0.0
            for (segment, value) in zip(LatencyBreakdown.Segment.allCases, row.breakdown.millis) where value > 0 {
                let x0 = px(at)
                at += value
                svg += "<rect data-segment=\"\(segment.rawValue)\" x=\"" + num(x0) + "\" y=\"" + num(y + 2)
                svg += "\" width=\"" + num(Swift.max(0.6, px(at) - x0)) + "\" height=\"10\" fill=\"" + segment.color
                svg += "\"/>"
            }
            svg += "</g>"
        }
        return svg + "</svg>"
    }

    /// `request #7 · 161 ms · DNS 0.021 ms · …` with every segment that is not 0.
    static func tooltip(_ row: Row) -> String {
        var parts = ["request #\(row.index)", "\(Formatting.milliseconds(row.breakdown.totalMillis)) ms"]
        for (segment, value) in zip(LatencyBreakdown.Segment.allCases, row.breakdown.millis) where value != 0 {
            parts.append("\(segment.title) \(Formatting.milliseconds(value)) ms")
        }
        if !row.breakdown.complete { parts.append("the server reported only its prefill and decode") }
        return parts.joined(separator: " · ")
    }
}
