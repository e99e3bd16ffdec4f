import Foundation
import LLMPerfCore

/// One optimization `llmperf lab` measured: its runs (variants in file order) and the
/// comparisons its table rows come from.
public struct LabReportCase: Sendable {
    /// The scenario file's base name.
    public var scenario: String
    public var optimization: String
    public var runs: [ReportRun]
    public var comparisons: [RunComparison]
    /// Why the case could not be measured (the runs it stored are still listed).
    public var failure: String?
    /// Each compared variant swept over concurrency (empty without `lab: sweep:`).
    public var sweeps: [SweepResult]

    public init(
        scenario: String, optimization: String, runs: [ReportRun], comparisons: [RunComparison],
        failure: String? = nil, sweeps: [SweepResult] = []
    ) {
        self.sweeps = sweeps
        self.scenario = scenario
        self.optimization = optimization
        self.runs = runs
        self.comparisons = comparisons
        self.failure = failure
    }
}

/// Everything a lab report shows: the table, the plain sentences under it, and each case's
/// runs and comparisons.
public struct LabReportInput: Sendable {
    public var title: String
    public var rows: [LabRow]
    /// Sentences under the table: what did not help, what was skipped or failed.
    public var notes: [String]
    public var cases: [LabReportCase]
    /// The batch id every run of this lab shares.
    public var batchID: String?

    public init(
        title: String = "llmperf lab", rows: [LabRow], notes: [String] = [], cases: [LabReportCase] = [],
        batchID: String? = nil
    ) {
        self.title = title
        self.rows = rows
        self.notes = notes
        self.cases = cases
        self.batchID = batchID
    }
}

/// The lab table in a terminal, Markdown and a self-contained HTML page (the same table, then
/// per optimization its runs, comparison tables and latency CDF charts, built from the
/// `llmperf report` pieces).
public enum LabReport {
    /// Column headers; `expected` only when some row has an expectation.
    public static func headers(_ rows: [LabRow]) -> [String] {
        var headers = ["optimization", "what it moves", "before", "after", "change", "significant"]
        if rows.contains(where: { $0.expectation != nil }) { headers.append("expected") }
        return headers
    }

    /// One row's cells, in `headers` order.
    public static func cells(_ row: LabRow, withExpectation: Bool) -> [String] {
        var cells = [
            row.optimization, row.moves, row.beforeText, row.afterText, row.changeText, row.significanceText,
        ]
        if withExpectation { cells.append(row.expectationText) }
        return cells
    }

    // MARK: terminal

    public static func terminalTable(_ rows: [LabRow], style: TerminalStyle) -> String {
        let headers = headers(rows)
        let withExpectation = headers.count == 7
        var table = TextTable(
            headers: headers, alignments: headers.indices.map { [2, 3, 4].contains($0) ? .right : .left })
        for row in rows {
            let verdictStyle: TerminalStyle.Style =
                row.verdict == .better ? .green : row.verdict == .worse ? .red : .dim
            var cells = cells(row, withExpectation: withExpectation).map { TextTable.Cell($0) }
            cells[4].style = verdictStyle
            cells[5].style = verdictStyle
            if withExpectation, let met = row.expectationMet { cells[6].style = met ? .green : .yellow }
            table.add(cells)
        }
        return table.render(style: style)
    }

    // MARK: Markdown

    public static func markdown(_ input: LabReportInput) -> String {
        var out = "# \(MarkdownText.escape(input.title))\n\n"
        if let batch = input.batchID { out += "Every run of this lab is in batch `\(MarkdownReport.code(batch))`.\n\n" }
        out += markdownTable(input.rows)
        if !input.notes.isEmpty {
            out += "\n"
            for note in input.notes { out += "- \(MarkdownText.escape(note))\n" }
        }
        for labCase in input.cases {
            out += "\n## \(MarkdownText.escape(labCase.optimization)) (`\(MarkdownReport.code(labCase.scenario))`)\n\n"
            if let failure = labCase.failure { out += "> Could not be measured: \(MarkdownText.escape(failure))\n\n" }
            if !labCase.runs.isEmpty {
                let rows = labCase.runs.map { run in
                    [
                        run.info.variant ?? run.info.name, run.info.id, run.info.status.rawValue,
                        String(run.summary.succeeded), String(run.summary.failed),
                    ]
                }
                out += MarkdownText.table(
                    headers: ["variant", "run", "status", "ok", "failed"],
                    rightAligned: [false, false, false, true, true], rows: rows)
            }
            for comparison in labCase.comparisons {
                out +=
                    "\n"
                    + MarkdownReport.comparisonSection(comparison).replacingOccurrences(of: "\n## ", with: "\n### ")
                    .replacingOccurrences(of: "## Comparison", with: "### Comparison")
            }
        }
        return out
    }

    static func markdownTable(_ rows: [LabRow]) -> String {
        let headers = headers(rows)
        let withExpectation = headers.count == 7
        let alignment = headers.indices.map { [2, 3, 4].contains($0) }
        let cells = rows.map { row -> [String] in
            var cells = self.cells(row, withExpectation: withExpectation)
            switch row.verdict {
            case .better: cells[5] = "✅ " + cells[5]
            case .worse: cells[5] = "❌ " + cells[5]
            case .noChange, .notComparable: break
            }
            return cells
        }
        return MarkdownText.table(headers: headers, rightAligned: alignment, rows: cells)
    }

    // MARK: HTML

    public static func html(_ input: LabReportInput) -> String {
        var page = HTMLPage()
        page.open(title: input.title)
        page += "<style>\(css)</style>"
        page += "<header><h1>\(h(input.title))</h1><p class=\"subtitle\">"
        page += "\(input.cases.count) optimization\(input.cases.count == 1 ? "" : "s"), "
        let runCount = input.cases.reduce(0) { $0 + $1.runs.count }
        page += "\(runCount) run\(runCount == 1 ? "" : "s")"
        if let batch = input.batchID { page += " (batch <code>\(h(batch))</code>)" }
        page += " · llmperf \(h(LLMPerfVersion.current))</p></header>"
        page += "<section id=\"lab\"><h2>Before and after</h2><div class=\"card\">" + htmlTable(input.rows)
        page += "<p class=\"note\">before and after: the statistic named under “what it moves” for the baseline "
        page += "and the optimized variant; significant: Mann-Whitney U on the per-request values (per-second "
        page += "buckets for throughput) at the comparison’s α.</p></div>"
        if !input.notes.isEmpty {
            page += "<ul class=\"lab-notes\">"
            for note in input.notes { page += "<li>\(h(note))</li>" }
            page += "</ul>"
        }
        if !input.cases.isEmpty {
            page += "<nav class=\"lab-index\">"
            page += input.cases.map { "<a href=\"#lab-\(h($0.scenario))\">\(h($0.optimization))</a>" }.joined(
                separator: " · ")
            page += "</nav>"
        }
        page += "</section>"
        for labCase in input.cases { page += section(labCase) }
        page.close()
        return page.text
    }

    static func htmlTable(_ rows: [LabRow]) -> String {
        let headers = headers(rows)
        let withExpectation = headers.count == 7
        var out = "<table class=\"lab-table\"><thead><tr>"
        for (index, header) in headers.enumerated() {
            out += [2, 3, 4].contains(index) ? "<th>\(h(header))</th>" : "<th class=\"text\">\(h(header))</th>"
        }
        out += "</tr></thead><tbody>"
        for row in rows {
            let css =
                row.verdict == .better ? "verdict-better" : row.verdict == .worse ? "verdict-worse" : "verdict-same"
            let cells = cells(row, withExpectation: withExpectation)
            out += "<tr data-scenario=\"\(h(row.scenario))\">"
            out += "<td class=\"text\"><a href=\"#lab-\(h(row.scenario))\">\(h(cells[0]))</a></td>"
            out += "<td class=\"text\">\(h(cells[1]))</td><td>\(h(cells[2]))</td><td>\(h(cells[3]))</td>"
            out += "<td class=\"\(css)\">\(h(cells[4]))</td><td class=\"text \(css)\">\(h(cells[5]))</td>"
            if withExpectation {
                let expectationCSS =
                    row.expectationMet == true ? "verdict-better" : row.expectationMet == false ? "lab-missed" : ""
                out += "<td class=\"text \(expectationCSS)\">\(h(cells[6]))</td>"
            }
            out += "</tr>"
        }
        return out + "</tbody></table>"
    }

    /// One optimization: its runs, comparisons and CDF charts, the report's sections with their
    /// headings one level down and their ids prefixed, so that several fit on one page.
    static func section(_ labCase: LabReportCase) -> String {
        var out = "<section class=\"lab-case\" id=\"lab-\(h(labCase.scenario))\">"
        out += "<h2>\(h(labCase.optimization)) <code>\(h(labCase.scenario))</code></h2>"
        if let failure = labCase.failure {
            out += "<p class=\"warning\">Could not be measured: \(h(failure))</p>"
        }
        guard !labCase.runs.isEmpty else { return out + "</section>" }
        var inner = HTMLRunSections.overview(labCase.runs)
        for comparison in labCase.comparisons { inner += HTMLRunSections.comparison(comparison) }
        inner += HTMLReport.distributions(labCase.runs)
        if !labCase.sweeps.isEmpty { inner += HTMLSweepReport.curves(labCase.sweeps) }
        out += demoted(inner, idPrefix: "lab-\(h(labCase.scenario))-")
        return out + "</section>"
    }

    static func demoted(_ html: String, idPrefix: String) -> String {
        html.replacingOccurrences(of: "<h3>", with: "<h4>").replacingOccurrences(of: "</h3>", with: "</h4>")
            .replacingOccurrences(of: "<h2>", with: "<h3>").replacingOccurrences(of: "</h2>", with: "</h3>")
            .replacingOccurrences(of: "<section id=\"", with: "<section id=\"\(idPrefix)")
    }

    static let css = """
        .lab-table td.text { white-space: normal; min-width: 90px; }
        .lab-table td:first-child a { color: inherit; text-decoration: none; font-weight: 600; }
        .lab-missed { color: #8a5a00; font-weight: 600; }
        .lab-notes { margin: 8px 0 0 18px; padding: 0; }
        .lab-notes li { margin: 3px 0; }
        .lab-index { margin: 10px 0; font-size: 13px; }
        .lab-case { margin-top: 28px; }
        .lab-case h3 { font-size: 16px; margin: 18px 0 8px; }
        .lab-case h4 { font-size: 14px; margin: 14px 0 6px; }
        """

    static func h(_ text: String) -> String { HTMLEscaping.escape(text) }
}
