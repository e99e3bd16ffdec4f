import Foundation
import Testing

@testable import LLMPerfCore

/// ttfa, reasoning time and the token split, per request, with exact values.
@Suite struct ReasoningMetricTests {
    static let ms: UInt64 = 1_000_000

    /// Starts at 10 ms; chunks at 60, 70, 80 (reasoning) and 90, 100 (answer) ms.
    static func reasoningTrace(usage: TokenUsage? = nil) -> RequestTrace {
        RequestTrace(
            index: 0, startedAtNanos: 10 * ms, chunkAtNanos: [60, 70, 80, 90, 100].map { $0 * ms },
            chunkTokens: [1, 1, 1, 1, 1], chunkReasoning: [true, true, true, false, false],
            endedAtNanos: 101 * ms, usage: usage)
    }

    @Test func ttfaIsTheFirstAnswerChunkAndReasoningTimeLeadsToIt() throws {
        let trace = Self.reasoningTrace()
        #expect(Metric.ttft.value(of: trace) == 50)
        #expect(Metric.ttfa.value(of: trace) == 80)
        #expect(Metric.reasoningTime.value(of: trace) == 30)
        #expect(Metric.reasoningTokens.value(of: trace) == 3)  // counted per chunk
        #expect(Metric.answerTokens.value(of: trace) == 2)
        #expect(Metric.tpot.value(of: trace) == 10)
    }

    @Test func usageDecidesTheReasoningCountWhenSent() {
        let trace = Self.reasoningTrace(usage: TokenUsage(completionTokens: 9, reasoningTokens: 6))
        #expect(Metric.reasoningTokens.value(of: trace) == 6)
        #expect(Metric.answerTokens.value(of: trace) == 3)
        #expect(Metric.outputTokens.value(of: trace) == 9)
    }

    @Test func withoutReasoningTtfaIsTtftAndTheRestHasNoValue() {
        let plain = RequestTrace(
            index: 0, startedAtNanos: 0, chunkAtNanos: [40 * Self.ms, 50 * Self.ms], chunkTokens: [1, 1],
            endedAtNanos: 51 * Self.ms)
        #expect(Metric.ttfa.value(of: plain) == 40)
        #expect(Metric.reasoningTime.value(of: plain) == nil)
        #expect(Metric.reasoningTokens.value(of: plain) == nil)
        #expect(Metric.answerTokens.value(of: plain) == nil)
        let empty = RequestTrace(index: 0, startedAtNanos: 0, endedAtNanos: 1)
        #expect(Metric.ttfa.value(of: empty) == nil)
    }

    @Test func allReasoningHasNoAnswer() {
        let trace = RequestTrace(
            index: 0, startedAtNanos: 0, chunkAtNanos: [10 * Self.ms, 20 * Self.ms], chunkTokens: [1, 1],
            chunkReasoning: [true, true], endedAtNanos: 21 * Self.ms)
        #expect(Metric.ttfa.value(of: trace) == nil)
        #expect(Metric.reasoningTime.value(of: trace) == nil)
        #expect(Metric.reasoningTokens.value(of: trace) == 2 && Metric.answerTokens.value(of: trace) == 0)
    }

    /// Reasoning the server counted but never streamed is not between the chunks: TPOT divides
    /// the streaming time by the tokens that streamed.
    @Test func hiddenReasoningLeavesTpotPerVisibleToken() {
        let trace = RequestTrace(
            index: 0, startedAtNanos: 0, chunkAtNanos: [500, 510, 520].map { $0 * Self.ms }, chunkTokens: [1, 1, 1],
            endedAtNanos: 521 * Self.ms, usage: TokenUsage(completionTokens: 203, reasoningTokens: 200))
        #expect(trace.hiddenReasoningTokens == 200 && trace.streamedTokens == 3)
        #expect(Metric.tpot.value(of: trace) == 10)
        #expect(Metric.ttfa.value(of: trace) == 500)
        #expect(Metric.reasoningTokens.value(of: trace) == 200 && Metric.answerTokens.value(of: trace) == 3)
    }

    @Test func gateRulesAndComparisonsKnowTheNewMetrics() throws {
        let rule = try GateRule.parse("ttfa.p95 < 2s")
        #expect(rule.kind == .threshold(.less, limit: 2000))
        #expect(try GateRule.parse("reasoning_tokens.p50 <= 512").subject.measure == .metric(.reasoningTokens))
        let plain = (0..<8).map {
            RequestTrace(
                index: $0, startedAtNanos: 0, chunkAtNanos: [40 * Self.ms], chunkTokens: [1], endedAtNanos: 41 * Self.ms
            )
        }
        let reasoning = (0..<8).map { i -> RequestTrace in
            var t = Self.reasoningTrace()
            t.index = i
            return t
        }
        func measures(_ a: [RequestTrace], _ b: [RequestTrace]) throws -> [RunMeasure] {
            let comparison = try RunComparison(runs: [.init(label: "a", traces: a), .init(label: "b", traces: b)])
            return comparison.comparisons[0].rows.map(\.measure)
        }
        #expect(try !measures(plain, plain).contains(.metric(.ttfa)))
        let withReasoning = try measures(plain, reasoning)
        #expect(withReasoning.contains(.metric(.ttfa)) && withReasoning.contains(.metric(.reasoningTime)))
    }
}
