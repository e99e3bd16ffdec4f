import LLMPerfCore

/// "Where it moved" in a terminal (`compare`) and in Markdown (`compare --format md`, `report --format
/// md`): per candidate, each segment's median in both runs and its change, the sums up to the first token
/// and over the whole request, and the sentences (`BreakdownSentence`).
public enum BreakdownComparisonText {
    static let title = "Where it moved"
    static let incompleteNote =
        "a server reported only its prefill and decode: its preprocessing, queue and postprocessing count as 0 "
        + "and lie in the segments on the wire"

    /// Rows: segment, side, baseline ms, candidate ms, change.
    static func rows(_ pair: BreakdownComparison) -> [[String]] {
        let shift = pair.shift
        var rows = LatencyBreakdown.Segment.allCases.map { segment in
            [
                segment.title, segment.side.rawValue, Formatting.milliseconds(shift.baseline[segment]),
                Formatting.milliseconds(shift.candidate[segment]), Formatting.signedMilliseconds(shift.change(segment)),
            ]
        }
        for (label, scope) in [
            ("sum to the first token", LatencyBreakdown.Shift.Scope.ttft), ("sum, whole request", .request),
        ] {
            let segments = shift.segments(scope)
            rows.append([
                label, "", Formatting.milliseconds(segments.reduce(0) { $0 + shift.baseline[$1] }),
                Formatting.milliseconds(segments.reduce(0) { $0 + shift.candidate[$1] }),
                Formatting.signedMilliseconds(shift.total(scope)),
            ])
        }
        return rows
    }

    static func heading(_ pair: BreakdownComparison) -> String {
        "\(title): \(pair.baseline) → \(pair.candidate) (median per segment, ms; \(pair.shift.baseline.count) → "
            + "\(pair.shift.candidate.count) requests)"
    }

    public static func render(_ pairs: [BreakdownComparison], style: TerminalStyle) -> String {
        var out = ""
        for pair in pairs {
            out += "\n" + style.apply(.bold, heading(pair)) + "\n"
            var table = TextTable(
                headers: ["segment", "side", pair.baseline, pair.candidate, "change"],
                alignments: [.left, .left, .right, .right, .right])
            for row in rows(pair) { table.add(row.map { TextTable.Cell($0) }) }
            out += table.render(style: style)
            for sentence in pair.sentences { out += sentence + "\n" }
            if !pair.complete { out += style.apply(.yellow, "note: " + incompleteNote) + "\n" }
        }
        return out
    }

    public static func markdown(_ pairs: [BreakdownComparison]) -> String {
        guard !pairs.isEmpty else { return "" }
        var out = "## \(title)\n"
        for pair in pairs {
            out += "\n**\(MarkdownText.escape(pair.baseline)) → \(MarkdownText.escape(pair.candidate))** "
            out += "(median per segment, ms; \(pair.shift.baseline.count) → \(pair.shift.candidate.count) requests)\n\n"
            out += MarkdownText.table(
                headers: ["segment", "side", pair.baseline, pair.candidate, "change"],
                rightAligned: [false, false, true, true, true], rows: rows(pair))
            out += "\n" + pair.sentences.map(MarkdownText.escape).joined(separator: "  \n") + "\n"
            if !pair.complete { out += "\n> \(MarkdownText.escape(incompleteNote)).\n" }
        }
        return out
    }
}
