import Foundation
import LLMPerfCore
import Testing

@testable import LLMPerfReport

/// A run that generated nothing (an embeddings endpoint): the summary's throughput line is input tokens/s,
/// its latency `total`, and the server's own timings show where a server reported them.
@Suite struct EmbeddingsReportTests {
    /// Four embeddings requests of 100 input tokens each, 0.25 s apart, each 50 ms long.
    static var traces: [RequestTrace] {
        (0..<4).map { i in
            let start = UInt64(i) * 250_000_000
            return RequestTrace(
                index: i, startedAtNanos: start, endedAtNanos: start + 50_000_000,
                usage: TokenUsage(promptTokens: 100, completionTokens: 0), httpStatus: 200,
                outputText: "8 embeddings × 384")
        }
    }

    @Test func theThroughputLineIsInputTokensWhenNothingWasGenerated() {
        let info = ReportFixtures.info(id: "r1", name: "emb", openLoop: false)
        let summary = RunSummary(traces: Self.traces)
        #expect(summary.totalOutputTokens == 0 && summary.totalInputTokens == 400)
        // 400 tokens over the window from the first start to the last end: 0.8 s.
        #expect(abs(summary.inputTokensPerSecond - 500) < 1e-9)
        let text = RunSummaryRenderer.render(run: info, summary: summary, style: TerminalStyle(enabled: false))
        #expect(text.contains("throughput 500.0 input tokens/s, 5.00 requests/s  ·  400 input tokens\n"), "\(text)")
        #expect(!text.contains("output tokens/s"))
        #expect(summary.metrics[.total]?.p50 == 50 && summary.metrics[.ttft] == nil && summary.metrics[.e2e] == nil)
        // A run that generated keeps its output line.
        var generated = Self.traces
        generated[0].chunkAtNanos = [10_000_000]
        generated[0].chunkTokens = [1]
        generated[0].usage = TokenUsage(promptTokens: 100, completionTokens: 1)
        let chat = RunSummaryRenderer.render(
            run: info, summary: RunSummary(traces: generated), style: TerminalStyle(enabled: false))
        #expect(chat.contains("output tokens/s") && !chat.contains("input tokens/s"))
    }

    @Test func serverTimingsAreSummaryRowsAndGateRules() throws {
        var traces = Self.traces
        for i in traces.indices {
            traces[i].serverTimings = ServerTimings(promptNanos: UInt64(10 + i) * 1_000_000)
        }
        let summary = RunSummary(traces: traces)
        #expect(ReportMetrics.summaryOrder(summary).contains(.serverPrompt))
        #expect(!ReportMetrics.summaryOrder(summary).contains(.serverGeneration))
        #expect(summary.metrics[.serverPrompt]?.max == 13)
        let rules = [try GateRule.parse("server_prompt.p50 < 20ms"), try GateRule.parse("input_tokens_per_s > 400")]
        let evaluation = GateEvaluation(rules: rules, run: traces)
        #expect(evaluation.passed, "\(evaluation)")
        let failing = GateEvaluation(rules: [try GateRule.parse("input_tokens_per_s > 600")], run: traces)
        #expect(!failing.passed)
        let slow = GateEvaluation(rules: [try GateRule.parse("server_prompt.max < 12ms")], run: traces)
        #expect(!slow.passed)
    }
}
