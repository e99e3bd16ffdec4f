import Foundation
import LLMPerfCore

/// A run's median bar as text (`runs show`) and Markdown (`report --format md`): each segment of the
/// request's waterfall with its median, its side, its share of the sum and a bar of that share, then the
/// sum and the network-and-client remainder (the two segments on the wire).
public enum BreakdownText {
    /// Characters of a bar at 100%.
    public static let barWidth = 30

    static func heading(_ summary: LatencyBreakdown.Summary) -> String {
        "Where the time went (median per segment, \(summary.count) request\(summary.count == 1 ? "" : "s"))"
    }

    static let medianNote =
        "each segment's own median: the sum need not be the median request's total"

    static let incompleteNote =
        "the server reported only its prefill and decode: its preprocessing, queue and postprocessing count as 0 "
        + "here and lie in the segments on the wire"

    /// The `runs show` section.
    public static func render(_ summary: LatencyBreakdown.Summary, style: TerminalStyle) -> String {
        var out = style.apply(.bold, heading(summary)) + "\n"
        var table = TextTable(
            headers: ["segment", "side", "median ms", "share", ""], alignments: [.left, .left, .right, .right, .left])
        let sum = summary.totalMillis
        for segment in LatencyBreakdown.Segment.allCases {
            let median = summary[segment]
            table.add([
                TextTable.Cell(segment.title), TextTable.Cell(segment.side.rawValue),
                TextTable.Cell(Formatting.milliseconds(median)), TextTable.Cell(share(median, of: sum)),
                TextTable.Cell(bar(median, of: sum)),
            ])
        }
        table.add([
            TextTable.Cell("sum"), TextTable.Cell(""), TextTable.Cell(Formatting.milliseconds(sum)),
            TextTable.Cell(share(sum, of: sum)), TextTable.Cell(""),
        ])
        let wire = summary.networkAndClientMillis
        table.add([
            TextTable.Cell("network and client"), TextTable.Cell("wire"),
            TextTable.Cell(Formatting.milliseconds(wire)), TextTable.Cell(share(wire, of: sum)), TextTable.Cell(""),
        ])
        out += table.render(style: style)
        out += style.apply(.dim, "note: " + medianNote) + "\n"
        if !summary.complete { out += style.apply(.yellow, "note: " + incompleteNote) + "\n" }
        return out
    }

    /// The `report --format md` section of one run.
    public static func markdown(_ summary: LatencyBreakdown.Summary) -> String {
        var out = "**\(heading(summary))**\n\n"
        let sum = summary.totalMillis
        var rows = LatencyBreakdown.Segment.allCases.map { segment in
            [
                segment.title, segment.side.rawValue, Formatting.milliseconds(summary[segment]),
                share(summary[segment], of: sum),
            ]
        }
        rows.append(["sum", "", Formatting.milliseconds(sum), share(sum, of: sum)])
        let wire = summary.networkAndClientMillis
        rows.append(["network and client", "wire", Formatting.milliseconds(wire), share(wire, of: sum)])
        out += MarkdownText.table(
            headers: ["segment", "side", "median ms", "share"], rightAligned: [false, false, true, true], rows: rows)
        out += "\n_\(MarkdownText.escape(medianNote))_\n"
        if !summary.complete { out += "\n> \(MarkdownText.escape(incompleteNote)).\n" }
        return out
    }

    /// `31.2%` of the sum; empty when the sum is not above 0.
    static func share(_ value: Double, of sum: Double) -> String {
        sum > 0 ? Formatting.percent(value / sum) : ""
    }

    /// `barWidth` characters at 100%, in eighths of a character; empty for a share that rounds to nothing
    /// or is negative.
    static func bar(_ value: Double, of sum: Double) -> String {
        guard sum > 0, value > 0 else { return "" }
        let eighths = Int((min(1, value / sum) * Double(barWidth) * 8).rounded())
        let partial = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        return String(repeating: "█", count: eighths / 8) + partial[eighths % 8]
    }
}
