import Foundation
import LLMPerfCore

/// Where each sampled request spent its time, one row per request from its own start: DNS,
/// TCP, TLS, wait to first byte (connection ready → first response byte), first byte to first
/// token, decode (first → last token). A failed request ends in a red marker at its end.
/// Each row's tooltip (`<title>`) gives the numbers, the outcome and the start of the output.
struct SVGWaterfallChart {
    static let phaseNames = ["DNS", "TCP", "TLS", "wait to first byte", "first byte to first token", "decode"]

    var identifier: String
    var title: String
    var traces: [RequestTrace]
    var width: Double = 1100

    /// Up to `count` measured requests, evenly spaced over the run (first and last included).
    static func sample(_ traces: [RequestTrace], count: Int) -> [RequestTrace] {
        // indices, not a filtered copy: copying every trace of a large run is what costs
        let measured = traces.indices.filter { !traces[$0].isWarmup }
        guard count > 0 else { return [] }
        guard measured.count > count else { return measured.map { traces[$0] } }
        guard count > 1 else { return [traces[measured[0]]] }
        return (0..<count).map { k in
            traces[measured[Int((Double(k) * Double(measured.count - 1) / Double(count - 1)).rounded())]]
        }
    }

    /// Phase boundaries in ms from the request's start: [dns, tcp, tls, wait, firstByte→token, decode] as (from, to).
    static func phases(of trace: RequestTrace) -> [(from: Double, to: Double)] {
        func ms(_ nanos: UInt64) -> Double { Double(nanos) / 1e6 }
        let dns = ms(trace.dnsNanos)
        let connect = Swift.max(dns, ms(trace.connectNanos))
        let tls = trace.tlsNanos > 0 ? Swift.max(connect, ms(trace.tlsNanos)) : connect
        let start = trace.startedAtNanos
        let firstByte = trace.firstByteNanos.map { Swift.max(tls, ms($0)) }
        let firstToken = trace.chunkAtNanos.first.map { ms($0 &- Swift.min($0, start)) }
        let lastToken = trace.chunkAtNanos.last.map { ms($0 &- Swift.min($0, start)) }
        var out: [(from: Double, to: Double)] = [(0, dns), (dns, connect), (connect, tls)]
        let ready = tls
        if let firstByte {
            out.append((ready, firstByte))
            if let firstToken, let lastToken {
                out.append((firstByte, Swift.max(firstByte, firstToken)))
                out.append((Swift.max(firstByte, firstToken), Swift.max(firstByte, lastToken)))
            } else {
                out += [(firstByte, firstByte), (firstByte, firstByte)]
            }
        } else {
            out += [(ready, ready), (ready, ready), (ready, ready)]
        }
        return out
    }

    func render() -> String {
        let left = 64.0
        let right = 16.0
        let top = 26.0
        let rowHeight = 14.0
        let plotWidth = width - left - right
        let plotHeight = Double(traces.count) * rowHeight
        let height = top + plotHeight + 44
        var longest = 0.0
        for trace in traces {
            longest = Swift.max(
                longest, Double(trace.endedAtNanos &- Swift.min(trace.endedAtNanos, trace.startedAtNanos)) / 1e6)
            if let last = trace.chunkAtNanos.last {
                longest = Swift.max(longest, Double(last &- Swift.min(last, trace.startedAtNanos)) / 1e6)
            }
        }
        let axis = ChartAxis.nice(low: 0, high: Swift.max(longest, 0.001), count: 8)
        func px(_ msValue: Double) -> Double { left + axis.fraction(msValue) * plotWidth }
        func num(_ v: Double) -> String { DecimalText.trimmed(v, fractionDigits: 1) }
        var svg = "<svg class=\"chart waterfall\" data-chart=\"\(HTMLEscaping.escape(identifier))\" viewBox=\"0 0 "
        svg += num(width) + " " + num(height) + "\" width=\"" + num(width) + "\" height=\"" + num(height)
        svg +=
            "\" role=\"img\" aria-label=\"\(HTMLEscaping.escape(title))\"><title>\(HTMLEscaping.escape(title))</title>"
        // legend
        var x = left
        for (i, name) in SVGWaterfallChart.phaseNames.enumerated() {
            svg += "<rect x=\"" + num(x) + "\" y=\"6\" width=\"12\" height=\"10\" fill=\"" + ChartPalette.phaseColors[i]
            svg += "\"/><text x=\"" + num(x + 16) + "\" y=\"15\">" + name + "</text>"
            x += 26 + Double(name.count) * 6.2
        }
        svg += "<rect x=\"" + num(x) + "\" y=\"6\" width=\"3\" height=\"10\" fill=\"#C62828\"/><text x=\""
        svg += num(x + 8) + "\" y=\"15\">failed</text>"
        svg += Self.timeAxis(axis, left: left, top: top, plotWidth: plotWidth, plotHeight: plotHeight)
        for (row, trace) in traces.enumerated() {
            let y = top + Double(row) * rowHeight
            svg += "<g class=\"request\"><title>" + HTMLEscaping.escape(SVGWaterfallChart.tooltip(trace)) + "</title>"
            svg += "<text class=\"row-label\" x=\"" + num(left - 6) + "\" y=\"" + num(y + 10.5)
            svg += "\" text-anchor=\"end\">#" + String(trace.index) + "</text>"
            for (i, phase) in SVGWaterfallChart.phases(of: trace).enumerated() where phase.to > phase.from {
                let x0 = px(phase.from)
                let w = Swift.max(0.6, px(phase.to) - x0)
                svg += "<rect x=\"" + num(x0) + "\" y=\"" + num(y + 2) + "\" width=\"" + num(w)
                svg += "\" height=\"10\" fill=\"" + ChartPalette.phaseColors[i] + "\"/>"
            }
            if !trace.succeeded {
                let end = Double(trace.endedAtNanos &- Swift.min(trace.endedAtNanos, trace.startedAtNanos)) / 1e6
                svg += "<rect x=\"" + num(px(end) - 1.5) + "\" y=\"" + num(y + 1) + "\" width=\"3\" height=\"12\" "
                svg += "fill=\"#C62828\"/>"
            }
            svg += "</g>"
        }
        svg += "</svg>"
        return svg
    }

    /// The vertical grid, the tick labels and the axis label under a waterfall's rows, shared by the client's
    /// waterfall and the breakdown's.
    static func timeAxis(
        _ axis: ChartAxis, left: Double, top: Double, plotWidth: Double, plotHeight: Double, fractionDigits: Int = 1
    ) -> String {
        func px(_ msValue: Double) -> Double { left + axis.fraction(msValue) * plotWidth }
        func num(_ v: Double) -> String { DecimalText.trimmed(v, fractionDigits: fractionDigits) }
        var svg = "<g class=\"grid\">"
        for tick in axis.ticks {
            svg += "<line x1=\"" + num(px(tick)) + "\" y1=\"" + num(top) + "\" x2=\"" + num(px(tick)) + "\" y2=\""
            svg += num(top + plotHeight) + "\"/>"
        }
        svg += "</g><g class=\"ticks\">"
        for tick in axis.ticks {
            svg += "<text x=\"" + num(px(tick)) + "\" y=\"" + num(top + plotHeight + 16) + "\" text-anchor=\"middle\">"
            svg += axis.label(tick) + "</text>"
        }
        svg +=
            "</g><text class=\"axis-label\" x=\"" + num(left + plotWidth / 2) + "\" y=\"" + num(top + plotHeight + 34)
        svg += "\" text-anchor=\"middle\">time since the request started (ms)</text>"
        return svg
    }

    static func tooltip(_ trace: RequestTrace) -> String {
        var parts = ["request #\(trace.index)"]
        for metric in [Metric.ttft, .tpot, .e2e, .total] {
            if let value = metric.value(of: trace) {
                parts.append("\(metric.rawValue) \(Formatting.milliseconds(value)) ms")
            }
        }
        parts.append("\(trace.outputTokens) output tokens")
        parts.append(trace.connection.reused ? "reused connection" : "new connection")
        parts.append(trace.outcome.description)
        var text = parts.joined(separator: " · ")
        let output = trace.outputText.trimmingCharacters(in: .whitespacesAndNewlines)
        if !output.isEmpty {
            text += "\noutput: " + SVGLineChart.shortened(output.replacingOccurrences(of: "\n", with: " "), to: 120)
        }
        return text
    }
}
