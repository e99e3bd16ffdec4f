import Foundation
import LLMPerfCore
import Testing

@testable import LLMPerfReport

/// `llmperf lab`'s table in the terminal, Markdown and HTML.
@Suite struct LabReportTests {
    static let ttft = LabMetric(measure: .metric(.ttft), statistic: "p50")

    static let rows: [LabRow] = [
        LabRow(
            scenario: "streaming", optimization: "streaming", before: "whole-answer", after: "streamed",
            moves: "time to first visible token p50", metric: ttft, unit: .milliseconds, beforeValue: 812.4,
            afterValue: 31.9, beforeSamples: 12, afterSamples: 12, verdict: .better, pValue: 0.00002,
            expectation: .factor(5)),
        LabRow(
            scenario: "speculative-decoding", optimization: "speculative decoding (n-gram, open prompt)",
            before: "plain-open", after: "ngram-open", moves: "time per output token p50",
            metric: LabMetric(measure: .metric(.tpot), statistic: "p50"), unit: .milliseconds, beforeValue: 21.3,
            afterValue: 20.9, beforeSamples: 8, afterSamples: 8, verdict: .noChange, pValue: 0.41),
        LabRow(
            scenario: "batching", optimization: "continuous <batching>", before: "batching-off", after: "continuous",
            moves: "output tokens per second", metric: LabMetric(measure: .outputTokensPerSecond, statistic: nil),
            unit: .tokensPerSecond, beforeValue: 40, afterValue: 30, beforeSamples: 30, afterSamples: 12,
            verdict: .worse, pValue: 0.003, expectation: .factor(2.5)),
    ]

    static func input() throws -> LabReportInput {
        let comparison = try ReportFixtures.comparison()
        let labCase = LabReportCase(
            scenario: "streaming", optimization: "streaming",
            runs: [ReportFixtures.baseline, ReportFixtures.candidate], comparisons: [comparison])
        let failed = LabReportCase(
            scenario: "quantization", optimization: "quantization", runs: [], comparisons: [],
            failure: "the local backend exited before listening: --weights <q9>")
        return LabReportInput(
            rows: rows, notes: rows.compactMap(\.sentence) + ["quantization could not be measured: <oops>"],
            cases: [labCase, failed], batchID: "b1234abcd")
    }

    @Test func terminalTableIsAligned() {
        let text = LabReport.terminalTable(Self.rows, style: TerminalStyle(enabled: false))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(
            lines[0]
                == "optimization                                what it moves                        before       after                change  significant            expected"
        )
        #expect(
            lines[2]
                == "streaming                                   time to first visible token p50    812.4 ms     31.9 ms  −96.1% (25.5× lower)  yes (p<0.001)          5× met"
        )
        #expect(
            lines[3]
                == "speculative decoding (n-gram, open prompt)  time per output token p50           21.3 ms     20.9 ms                 −1.9%  no (p=0.41)"
        )
        #expect(
            lines[4]
                == "continuous <batching>                       output tokens per second         40.0 tok/s  30.0 tok/s  −25.0% (1.33× lower)  yes, worse (p=0.0030)  2.5× missed"
        )
        #expect(lines.count == 6 && lines[5].isEmpty)
        // Colors: better green, worse red.
        let colored = LabReport.terminalTable(Self.rows, style: TerminalStyle(enabled: true))
        #expect(colored.contains("\u{1B}[32myes (p<0.001)"))
        #expect(colored.contains("\u{1B}[31myes, worse (p=0.0030)"))
    }

    @Test func noExpectationNoColumn() {
        let headers = LabReport.headers([Self.rows[1]])
        #expect(headers == ["optimization", "what it moves", "before", "after", "change", "significant"])
    }

    @Test func markdownHasTheTableNotesAndEachComparison() throws {
        let md = LabReport.markdown(try Self.input())
        #expect(md.hasPrefix("# llmperf lab\n\nEvery run of this lab is in batch `b1234abcd`.\n\n"))
        #expect(
            md.contains(
                "| optimization | what it moves | before | after | change | significant | expected |\n| --- | --- | ---: | ---: | ---: | --- | --- |\n"
            ))
        #expect(
            md.contains(
                "| streaming | time to first visible token p50 | 812.4 ms | 31.9 ms | −96.1% (25.5× lower) | ✅ yes (p\\<0.001) | 5× met |\n"
            ))
        #expect(md.contains("| continuous \\<batching\\> | output tokens per second |"))
        #expect(
            md.contains(
                "- speculative decoding (n-gram, open prompt) did not help here: time per output token p50 went from 21.3 ms to 20.9 ms (−1.9%), which is not a significant difference (p = 0.41).\n"
            ))
        #expect(md.contains("- quantization could not be measured: \\<oops\\>\n"))
        #expect(md.contains("\n## streaming (`streaming`)\n"))
        #expect(md.contains("| tuned, \"fast\" | r9f8e7d | completed | "))
        #expect(md.contains("\n### Comparison\n"))
        #expect(!md.contains("\n## Comparison"))
        #expect(md.contains("> Could not be measured: the local backend exited before listening: --weights \\<q9\\>"))
    }

    @Test func htmlHasTheTableThenEveryCaseWithItsCharts() throws {
        let html = LabReport.html(try Self.input())
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<section id=\"lab\"><h2>Before and after</h2>"))
        #expect(html.contains("<td class=\"text\"><a href=\"#lab-streaming\">streaming</a></td>"))
        #expect(html.contains("<td class=\"verdict-better\">−96.1% (25.5× lower)</td>"))
        #expect(html.contains("<td class=\"text verdict-worse\">yes, worse (p=0.0030)</td>"))
        #expect(html.contains("<td class=\"text lab-missed\">2.5× missed</td>"))
        #expect(html.contains("continuous &lt;batching&gt;"))
        #expect(!html.contains("<batching>"))
        #expect(html.contains("<li>quantization could not be measured: &lt;oops&gt;</li>"))
        // The case: its runs, comparison and CDF charts, with headings one level down and ids
        // prefixed.
        #expect(
            html.contains("<section class=\"lab-case\" id=\"lab-streaming\"><h2>streaming <code>streaming</code></h2>"))
        #expect(html.contains("<section id=\"lab-streaming-runs\"><h3>Runs</h3>"))
        #expect(html.contains("<section id=\"lab-streaming-comparison\"><h3>Comparison</h3>"))
        #expect(html.contains("<section id=\"lab-streaming-distributions\"><h3>Latency distributions</h3>"))
        for chart in ["cdf-ttft", "cdf-tpot", "cdf-itl", "cdf-e2e"] {
            #expect(html.contains("data-chart=\"\(chart)\""), "chart \(chart)")
        }
        #expect(html.contains("<h4>TTFT CDF</h4>"))
        #expect(!html.contains("<section id=\"comparison\""))
        #expect(
            html.contains(
                "<section class=\"lab-case\" id=\"lab-quantization\"><h2>quantization <code>quantization</code></h2><p class=\"warning\">Could not be measured: the local backend exited before listening: --weights &lt;q9&gt;</p></section>"
            ))
    }

    @Test func htmlLoadsNothingFromOutside() throws {
        let html = LabReport.html(try Self.input()).lowercased()
        for needle in ["src=", "url(", "@import", "<link", "<script", "<iframe", "<img", "<object", "<embed"] {
            #expect(!html.contains(needle), "found \(needle)")
        }
        // Links are to sections of the page only.
        let links = html.components(separatedBy: "href=\"").dropFirst()
        #expect(links.count == 5)
        #expect(links.allSatisfy { $0.hasPrefix("#lab-") })
        #expect(html.contains("content-security-policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\""))
    }
}
