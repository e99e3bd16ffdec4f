import Foundation
import Testing

@testable import LLMPerfCore

/// usage_diff per request, and the run's token-accounting warnings, with exact counts.
@Suite struct TokenAccountingTests {
    static func trace(_ index: Int, chunks: Int, usage: Int?, warmup: Bool = false, failed: Bool = false)
        -> RequestTrace
    {
        RequestTrace(
            index: index, isWarmup: warmup, startedAtNanos: 0, chunkAtNanos: (0..<chunks).map { UInt64($0 + 1) * 1000 },
            chunkTokens: Array(repeating: 1, count: chunks), endedAtNanos: UInt64(chunks + 1) * 1000,
            usage: usage.map { TokenUsage(completionTokens: $0) },
            outcome: failed ? .failed(.streamCut, detail: "") : .ok)
    }

    @Test func usageDiffIsUsageMinusWhatArrived() {
        #expect(Metric.usageDiff.value(of: Self.trace(0, chunks: 8, usage: 8)) == 0)
        #expect(Metric.usageDiff.value(of: Self.trace(0, chunks: 4, usage: 8)) == 4)  // packed events
        #expect(Metric.usageDiff.value(of: Self.trace(0, chunks: 8, usage: 5)) == -3)  // under-reported
        #expect(Metric.usageDiff.value(of: Self.trace(0, chunks: 8, usage: nil)) == nil)
        // Hidden reasoning is counted as arrived: it was reported, just not streamed.
        var hidden = Self.trace(0, chunks: 3, usage: 203)
        hidden.usage?.reasoningTokens = 200
        #expect(Metric.usageDiff.value(of: hidden) == 0)
    }

    @Test func aFixedLengthIsIgnoreEOSOrMinTokensEqualToMax() {
        func workload(_ extra: [RequestBodyField], max: Int? = 64) -> WorkloadSpec {
            WorkloadSpec(prompts: [], maxTokens: max, extraBody: extra)
        }
        #expect(
            TokenAccounting.fixedLength(of: workload([RequestBodyField(key: "ignore_eos", value: .bool(true))])) == 64)
        #expect(
            TokenAccounting.fixedLength(of: workload([RequestBodyField(key: "min_tokens", value: .integer(64))])) == 64)
        #expect(
            TokenAccounting.fixedLength(of: workload([RequestBodyField(key: "min_tokens", value: .integer(8))])) == nil)
        #expect(
            TokenAccounting.fixedLength(of: workload([RequestBodyField(key: "ignore_eos", value: .bool(false))])) == nil
        )
        #expect(
            TokenAccounting.fixedLength(
                of: workload([RequestBodyField(key: "ignore_eos", value: .bool(true))], max: nil))
                == nil)
    }

    @Test func warningsCountMeasuredSuccessfulRequestsOnly() {
        var accounting = TokenAccounting(
            workload: WorkloadSpec(
                prompts: [], maxTokens: 8, extraBody: [RequestBodyField(key: "ignore_eos", value: .bool(true))]))
        accounting.add(Self.trace(0, chunks: 3, usage: 3, warmup: true))  // warmup: not counted
        accounting.add(Self.trace(1, chunks: 8, usage: 8))
        accounting.add(Self.trace(2, chunks: 5, usage: 5))  // short
        accounting.add(Self.trace(3, chunks: 8, usage: 6))  // usage below what arrived; 6 < 8: short too
        accounting.add(Self.trace(4, chunks: 2, usage: 2, failed: true))  // failed: not counted
        #expect(accounting.requests == 3 && accounting.shortOfFixedLength == 2 && accounting.usageBelowArrived == 1)
        #expect(
            accounting.warnings == [
                "2 of 3 requests stopped short of the 8 tokens asked for (a fixed length: ignore_eos or min_tokens): "
                    + "the server did not honour it, so per-request lengths differ",
                "for 1 of 3 requests the server's usage reported fewer output tokens than arrived (usage_diff < 0): "
                    + "output_tokens follows usage; check the server's token accounting",
            ])
        var free = TokenAccounting(workload: WorkloadSpec(prompts: [], maxTokens: 8))
        free.add(Self.trace(0, chunks: 2, usage: 2))
        #expect(free.warnings.isEmpty)
    }
}
