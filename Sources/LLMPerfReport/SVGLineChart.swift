import LLMPerfCore

/// An inline SVG line chart: one polyline per series (a run), axes with ticks and labels,
/// horizontal grid lines, and a legend under the plot. Markup only (no script, no external
/// reference); every label is escaped.
struct SVGLineChart {
    struct Series {
        var name: String
        var color: String
        var points: [(x: Double, y: Double)]
        /// Vertical error bars (a 95% interval) at some x.
        var errorBars: [(x: Double, low: Double, high: Double)] = []
        /// Drawn dashed (a second statistic of the same run, e.g. p99 beside p50).
        var dashed = false
    }

    /// A dashed horizontal line across the plot with a label at its right end (e.g. `p99`).
    struct Guide {
        var y: Double
        var label: String
    }

    /// For `aria-label` and the `data-chart` attribute: what the chart shows.
    var identifier: String
    var title: String
    var xLabel: String
    var yLabel: String
    var xAxis: ChartAxis
    var yAxis: ChartAxis
    var series: [Series]
    var guides: [Guide] = []
    /// Dashed vertical lines across the plot with a label at their top (e.g. `capacity`), at an x.
    var verticalGuides: [Guide] = []
    var width: Double = 560
    var plotHeight: Double = 230

    private let left = 62.0
    private let right = 18.0
    private let top = 14.0
    private let axisSpace = 58.0
    private let legendRow = 18.0

    func render() -> String {
        let plotWidth = width - left - right
        let legendColumns = 2
        let legendRows = (series.count + legendColumns - 1) / legendColumns
        let height = top + plotHeight + axisSpace + Double(legendRows) * legendRow + 6
        var svg = ""
        svg.reserveCapacity(4096 + series.reduce(0) { $0 + $1.points.count * 16 })
        svg += "<svg class=\"chart\" data-chart=\"\(HTMLEscaping.escape(identifier))\" viewBox=\"0 0 "
        svg += num(width) + " " + num(height) + "\" width=\"" + num(width) + "\" height=\"" + num(height)
        svg += "\" role=\"img\" aria-label=\"\(HTMLEscaping.escape(title))\">"
        svg += "<title>\(HTMLEscaping.escape(title))</title>"
        let bottom = top + plotHeight
        func px(_ x: Double) -> Double { left + xAxis.fraction(x) * plotWidth }
        func py(_ y: Double) -> Double { bottom - yAxis.fraction(y) * plotHeight }
        // grid and y ticks
        svg += "<g class=\"grid\">"
        for tick in yAxis.ticks {
            let y = py(tick)
            svg += "<line x1=\"" + num(left) + "\" y1=\"" + num(y) + "\" x2=\"" + num(left + plotWidth)
            svg += "\" y2=\"" + num(y) + "\"/>"
        }
        for tick in xAxis.ticks {
            let x = px(tick)
            svg +=
                "<line x1=\"" + num(x) + "\" y1=\"" + num(top) + "\" x2=\"" + num(x) + "\" y2=\"" + num(bottom) + "\"/>"
        }
        svg += "</g><g class=\"ticks\">"
        for tick in yAxis.ticks {
            svg += "<text x=\"" + num(left - 6) + "\" y=\"" + num(py(tick) + 4) + "\" text-anchor=\"end\">"
            svg += yAxis.label(tick) + "</text>"
        }
        for tick in xAxis.ticks {
            svg += "<text x=\"" + num(px(tick)) + "\" y=\"" + num(bottom + 16) + "\" text-anchor=\"middle\">"
            svg += xAxis.label(tick) + "</text>"
        }
        svg += "</g>"
        svg += "<line class=\"axis\" x1=\"" + num(left) + "\" y1=\"" + num(bottom) + "\" x2=\"" + num(left + plotWidth)
        svg += "\" y2=\"" + num(bottom) + "\"/>"
        svg += "<line class=\"axis\" x1=\"" + num(left) + "\" y1=\"" + num(top) + "\" x2=\"" + num(left) + "\" y2=\""
        svg += num(bottom) + "\"/>"
        svg += "<text class=\"axis-label\" x=\"" + num(left + plotWidth / 2) + "\" y=\"" + num(bottom + 34)
        svg += "\" text-anchor=\"middle\">" + HTMLEscaping.escape(xLabel) + "</text>"
        svg += "<text class=\"axis-label\" transform=\"translate(14," + num(top + plotHeight / 2)
        svg += ") rotate(-90)\" text-anchor=\"middle\">" + HTMLEscaping.escape(yLabel) + "</text>"
        for guide in guides {
            let y = py(guide.y)
            svg += "<line class=\"guide\" x1=\"" + num(left) + "\" y1=\"" + num(y) + "\" x2=\"" + num(left + plotWidth)
            svg += "\" y2=\"" + num(y) + "\"/><text class=\"guide-label\" x=\"" + num(left + plotWidth - 2)
            svg += "\" y=\"" + num(y - 3) + "\" text-anchor=\"end\">" + HTMLEscaping.escape(guide.label) + "</text>"
        }
        for (index, guide) in verticalGuides.enumerated() {
            let x = clamp(px(guide.y), left, left + plotWidth)
            svg += "<line class=\"guide\" x1=\"" + num(x) + "\" y1=\"" + num(top) + "\" x2=\"" + num(x)
            svg += "\" y2=\"" + num(bottom) + "\"/><text class=\"guide-label\" x=\"" + num(x + 3)
            svg += "\" y=\"" + num(top + 10 + 11 * Double(index)) + "\">" + HTMLEscaping.escape(guide.label) + "</text>"
        }
        // series, clipped to the plot
        svg += "<g class=\"series\">"
        for (index, s) in series.enumerated() where !s.points.isEmpty {
            for bar in s.errorBars {
                let x = clamp(px(bar.x), left, left + plotWidth)
                let (y1, y2) = (clamp(py(bar.low), top, bottom), clamp(py(bar.high), top, bottom))
                svg += "<path class=\"error-bar\" stroke=\"" + s.color + "\" d=\"M" + num(x) + " " + num(y1) + "V"
                svg += num(y2) + "M" + num(x - 3) + " " + num(y1) + "h6M" + num(x - 3) + " " + num(y2) + "h6\"/>"
            }
            svg += "<polyline data-series=\"\(index)\" fill=\"none\" stroke=\"" + s.color
            if s.dashed { svg += "\" stroke-dasharray=\"5 3" }
            svg += "\" stroke-width=\"1.8\" stroke-linejoin=\"round\" points=\""
            var first = true
            for point in s.points {
                if !first { svg += " " }
                first = false
                DecimalText.append(clamp(px(point.x), left, left + plotWidth), fractionDigits: 1, to: &svg)
                svg += ","
                DecimalText.append(clamp(py(point.y), top, bottom), fractionDigits: 1, to: &svg)
            }
            svg += "\"/>"
            if s.points.count == 1 || !s.errorBars.isEmpty {
                for point in s.points {
                    svg += "<circle cx=\"" + num(clamp(px(point.x), left, left + plotWidth)) + "\" cy=\""
                    svg += num(clamp(py(point.y), top, bottom)) + "\" r=\"3\" fill=\"" + s.color + "\"/>"
                }
            }
        }
        svg += "</g>"
        // legend
        svg += "<g class=\"legend\">"
        let columnWidth = (width - left) / Double(legendColumns)
        for (index, s) in series.enumerated() {
            let x = left + Double(index % legendColumns) * columnWidth
            let y = bottom + axisSpace + Double(index / legendColumns) * legendRow
            svg += "<rect x=\"" + num(x) + "\" y=\"" + num(y - 9) + "\" width=\"14\" height=\"4\" fill=\"" + s.color
            svg += "\"/><text x=\"" + num(x + 20) + "\" y=\"" + num(y - 3) + "\">"
            svg += HTMLEscaping.escape(SVGLineChart.shortened(s.name, to: 40)) + "</text>"
        }
        svg += "</g></svg>"
        return svg
    }

    static func shortened(_ text: String, to length: Int) -> String {
        text.count <= length ? text : String(text.prefix(length - 1)) + "…"
    }

    private func clamp(_ v: Double, _ lo: Double, _ hi: Double) -> Double { Swift.min(Swift.max(v, lo), hi) }
    private func num(_ v: Double) -> String { DecimalText.trimmed(v, fractionDigits: 1) }
}
