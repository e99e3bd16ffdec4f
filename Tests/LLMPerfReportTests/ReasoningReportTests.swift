import Foundation
import LLMPerfCore
import Testing

@testable import LLMPerfReport

/// The reasoning metrics in the summary tables and the CSV: shown when a run reasoned visibly,
/// and out of the way (no `ttfa` repeating `ttft`) when it did not.
@Suite struct ReasoningReportTests {
    static let ms: UInt64 = 1_000_000

    static func traces(reasoning: Bool) -> [RequestTrace] {
        (0..<4).map { i in
            let start = UInt64(i) * 200 * ms
            return RequestTrace(
                index: i, startedAtNanos: start, chunkAtNanos: [50, 60, 70, 80].map { start + $0 * ms },
                chunkTokens: [1, 1, 1, 1], chunkReasoning: reasoning ? [true, true, false, false] : [],
                endedAtNanos: start + 81 * ms, usage: TokenUsage(completionTokens: 4))
        }
    }

    static func metricRows(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in line.split(separator: " ").first.map(String.init) }
    }

    @Test func summaryShowsTtfaAndTheTokenSplitOnlyWhenTheRunReasoned() {
        let info = ReportFixtures.info(id: "r1", name: "x", openLoop: false)
        let reasoned = RunSummary(traces: Self.traces(reasoning: true))
        let plain = RunSummary(traces: Self.traces(reasoning: false))
        let withRows = Self.metricRows(
            RunSummaryRenderer.render(run: info, summary: reasoned, style: TerminalStyle(enabled: false)))
        for metric in ["ttft", "ttfa", "reasoning_time", "reasoning_tokens", "answer_tokens"] {
            #expect(withRows.contains(metric), "\(metric) missing")
        }
        #expect(reasoned.metrics[.ttfa]?.p50 == 70 && reasoned.metrics[.reasoningTime]?.p50 == 20)
        #expect(reasoned.metrics[.reasoningTokens]?.p50 == 2 && reasoned.metrics[.answerTokens]?.p50 == 2)
        let withoutRows = Self.metricRows(
            RunSummaryRenderer.render(run: info, summary: plain, style: TerminalStyle(enabled: false)))
        #expect(withoutRows.contains("ttft"))
        for metric in ["ttfa", "reasoning_time", "reasoning_tokens", "answer_tokens"] {
            #expect(!withoutRows.contains(metric), "\(metric) shown without reasoning")
        }
        #expect(ReportMetrics.summaryOrder(reasoned).prefix(3) == [.ttft, .ttfa, .reasoningTime])
    }

    @Test func csvRequestRowsCarryTheReasoningColumns() throws {
        let info = ReportFixtures.info(id: "r1", name: "x", openLoop: false)
        let csv = CSVReport.requests([ReportRun(info: info, traces: Self.traces(reasoning: true))])
        let lines = csv.components(separatedBy: "\r\n")
        #expect(
            lines[0].contains(",ttfa_ms,reasoning_time_ms,reasoning_tokens,answer_tokens,usage_diff,server_prompt_ms,"))
        // The reasoning columns, then the server's timings and phases, which these requests do not have.
        #expect(lines[1].hasSuffix(",70,20,2,2,0,,,,,,,,,,,,"))
        let plain = CSVReport.requests([ReportRun(info: info, traces: Self.traces(reasoning: false))])
        #expect(plain.components(separatedBy: "\r\n")[1].hasSuffix(",50,,,,0,,,,,,,,,,,,"))
    }

    @Test func jsonRequestsCarryTheFlagsAndTheSplit() throws {
        let info = ReportFixtures.info(id: "r1", name: "x", openLoop: false)
        let data = try JSONReport.encode(
            ReportInput(runs: [ReportRun(info: info, traces: Self.traces(reasoning: true))]), pretty: false)
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let runs = try #require(root["runs"] as? [[String: Any]])
        let request = try #require((runs[0]["requests"] as? [[String: Any]])?.first)
        #expect(request["chunkReasoning"] as? [Bool] == [true, true, false, false])
        #expect(request["reasoningTokens"] as? Int == 2)
        let metrics = try #require(request["metrics"] as? [String: Double])
        #expect(metrics["ttfa"] == 70 && metrics["reasoning_time"] == 20)
    }
}
