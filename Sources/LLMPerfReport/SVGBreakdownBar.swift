import Foundation
import LLMPerfCore

/// A run's median bar: one horizontal bar stacked from each segment's median in waterfall order (DNS →
/// … → last byte on the wire), each segment as wide as its share of the sum, labelled with its ms where
/// it has room; under it a legend by side (client, server, wire) listing every segment whose median is not
/// 0 with its ms. Colours by side (`LatencyBreakdown.Segment.color`), as in `SVGBreakdownWaterfall`.
/// A negative median (the wire, when the server's clock ran ahead of the client's) is listed, not drawn.
struct SVGBreakdownBar {
    var identifier: String
    var title: String
    var summary: LatencyBreakdown.Summary
    var width: Double = 1100

    static let left = 16.0
    static let right = 16.0
    static let barTop = 8.0
    static let barHeight = 30.0

    /// Each drawn segment (median above 0) and its horizontal extent, in waterfall order.
    func layout() -> [(segment: LatencyBreakdown.Segment, x: Double, width: Double)] {
        let plotWidth = width - Self.left - Self.right
        let drawn = LatencyBreakdown.Segment.allCases.filter { summary[$0] > 0 }
        let total = drawn.reduce(0) { $0 + summary[$1] }
        guard total > 0 else { return [] }
        var x = Self.left
        return drawn.map { segment in
            let w = summary[segment] / total * plotWidth
            defer { x += w }
            return (segment, x, w)
        }
    }

    func render() -> String {
        func num(_ v: Double) -> String { DecimalText.trimmed(v, fractionDigits: 3) }
        let legendTop = Self.barTop + Self.barHeight + 34
        let legend = SVGBreakdownBar.legend(
            LatencyBreakdown.Segment.allCases.filter { summary[$0] != 0 }.map {
                ($0, "\($0.title) \(Formatting.milliseconds(summary[$0])) ms")
            }, left: Self.left, top: legendTop, width: width - Self.left - Self.right)
        let height = legendTop + legend.height + 4
        var svg = "<svg class=\"chart breakdown-bar\" data-chart=\"\(HTMLEscaping.escape(identifier))\" viewBox=\"0 0 "
        svg += num(width) + " " + num(height) + "\" width=\"" + num(width) + "\" height=\"" + num(height)
        svg +=
            "\" role=\"img\" aria-label=\"\(HTMLEscaping.escape(title))\"><title>\(HTMLEscaping.escape(title))</title>"
        svg += "<g class=\"bar\">"
        for (segment, x, w) in layout() {
            let ms = Formatting.milliseconds(summary[segment])
            svg += "<rect class=\"segment\" data-segment=\"\(segment.rawValue)\" x=\"" + num(x) + "\" y=\""
            svg += num(Self.barTop) + "\" width=\"" + num(w) + "\" height=\"" + num(Self.barHeight) + "\" fill=\""
            svg += segment.color + "\"><title>" + HTMLEscaping.escape("\(segment.title): \(ms) ms (median)")
            svg += "</title></rect>"
            // A label where it fits: about 6.2 px a character at 11 px.
            let label = ms + " ms"
            if w >= Double(label.count) * 6.2 + 8 {
                svg += "<text class=\"segment-label\" x=\"" + num(x + w / 2) + "\" y=\""
                svg += num(Self.barTop + Self.barHeight / 2 + 4) + "\" text-anchor=\"middle\">" + label + "</text>"
            }
        }
        svg +=
            "</g><text class=\"axis-label\" x=\"" + num(Self.left) + "\" y=\"" + num(Self.barTop + Self.barHeight + 14)
        svg += "\">0</text><text class=\"axis-label\" x=\"" + num(width - Self.right) + "\" y=\""
        svg += num(Self.barTop + Self.barHeight + 14) + "\" text-anchor=\"end\">sum of the medians "
        svg += Formatting.milliseconds(summary.totalMillis) + " ms</text>"
        svg += legend.svg + "</svg>"
        return svg
    }

    /// A legend of `entries` grouped by side, one line per side that has any (its name in the side's
    /// colour, then each entry's swatch and text), wrapping within `width`.
    static func legend(
        _ entries: [(segment: LatencyBreakdown.Segment, text: String)], left: Double, top: Double, width: Double
    ) -> (svg: String, height: Double) {
        func num(_ v: Double) -> String { DecimalText.trimmed(v, fractionDigits: 1) }
        let lineHeight = 16.0
        var svg = "<g class=\"legend\">"
        var y = top
        for side in LatencyBreakdown.Segment.Side.ordered {
            let items = entries.filter { $0.segment.side == side }
            guard !items.isEmpty else { continue }
            svg += "<text class=\"legend-side\" x=\"" + num(left) + "\" y=\"" + num(y) + "\" fill=\"" + side.color
            svg += "\">" + side.rawValue + "</text>"
            var x = left + 56
            for item in items {
                let itemWidth = 26 + Double(item.text.count) * 6.2
                if x + itemWidth > left + width, x > left + 56 {
                    x = left + 56
                    y += lineHeight
                }
                svg += "<g class=\"legend-item\" data-segment=\"\(item.segment.rawValue)\"><rect x=\"" + num(x)
                svg += "\" y=\"" + num(y - 9) + "\" width=\"12\" height=\"10\" fill=\"" + item.segment.color
                svg += "\"/><text x=\"" + num(x + 16) + "\" y=\"" + num(y) + "\">" + HTMLEscaping.escape(item.text)
                svg += "</text></g>"
                x += itemWidth
            }
            y += lineHeight
        }
        return (svg + "</g>", y - top)
    }
}
