import Foundation
import LLMPerfCore

/// The report page's "Where the time went" section, for runs whose server reported its own phases: each
/// run's median bar (`SVGBreakdownBar`) and the breakdown of a sample of its requests
/// (`SVGBreakdownWaterfall`); with several runs, "Where it moved" for each candidate against the baseline
/// (`BreakdownComparison`). Empty when no run has a breakdown.
enum HTMLBreakdownSection {
    static func h(_ text: String) -> String { HTMLEscaping.escape(text) }

    static func render(_ runs: [ReportRun], sampleSize: Int, slowest: Int) -> String {
        guard runs.contains(where: { $0.breakdown != nil }) else { return "" }
        var out = "<section id=\"breakdown\"><h2>Where the time went</h2><p class=\"note\">"
        out += h(
            "Each request's time from its start to its last byte, as segments that follow each other: the client's "
                + "connection and sending, the server's own phases as it reported them, and what lies on the wire "
                + "between the two clocks (the network both ways and the client's own work). The bar is each "
                + "segment's own median, so its sum need not be the median request's total.")
        out += "</p>"
        for (index, run) in runs.enumerated() {
            out += "<div class=\"card\"><h3>\(HTMLReport.swatch(index))\(h(run.label))</h3>"
            guard let summary = run.breakdown else {
                out += "<p class=\"note\">No breakdown: the server reported no timings of its own (prefill and "
                out += "decode at least) for these requests.</p></div>"
                continue
            }
            out += "<p class=\"note\">\(h(BreakdownText.heading(summary)))"
            out += "; network and client \(Formatting.milliseconds(summary.networkAndClientMillis))"
            out += " ms</p>"
            if !summary.complete { out += "<p class=\"warning\">\(h(BreakdownText.incompleteNote))</p>" }
            out += SVGBreakdownBar(
                identifier: "breakdown-\(index)", title: "Median per segment of \(run.label)", summary: summary
            ).render()
            let rows = SVGBreakdownWaterfall.sample(run.traces, count: max(1, sampleSize), slowest: slowest)
            out += "<details\(index == 0 ? " open" : "")><summary>\(rows.count) of \(summary.count) requests: the "
            out += "\(min(slowest, rows.count)) slowest and an even spread of the others</summary>"
            out += SVGBreakdownWaterfall(
                identifier: "breakdown-waterfall-\(index)", title: "Where the time went in requests of \(run.label)",
                rows: rows
            ).render()
            out += "</details></div>"
        }
        let pairs = BreakdownComparison.pairs(labels: runs.map(\.label), breakdowns: runs.map(\.breakdown))
        for pair in pairs { out += moved(pair) }
        return out + "</section>"
    }

    static func moved(_ pair: BreakdownComparison) -> String {
        var out = "<div class=\"card\"><h3>\(h(BreakdownComparisonText.title)): \(h(pair.baseline)) → "
        out += "\(h(pair.candidate))</h3>"
        for sentence in pair.sentences { out += "<p>\(h(sentence))</p>" }
        out += "<table><thead><tr><th>segment</th><th class=\"text\">side</th><th>\(h(pair.baseline)) ms</th>"
        out += "<th>\(h(pair.candidate)) ms</th><th>change</th></tr></thead><tbody>"
        for row in BreakdownComparisonText.rows(pair) {
            out += "<tr><td>\(h(row[0]))</td><td class=\"text\">\(h(row[1]))</td>"
            out += row[2...].map { "<td>\(h($0))</td>" }.joined() + "</tr>"
        }
        out += "</tbody></table>"
        if !pair.complete { out += "<p class=\"note\">\(h(BreakdownComparisonText.incompleteNote))</p>" }
        return out + "</div>"
    }
}
