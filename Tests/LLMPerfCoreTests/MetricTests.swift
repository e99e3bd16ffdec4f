import Testing

@testable import LLMPerfCore

@Suite struct MetricTests {
    /// A request over a new TLS connection: start at 1 ms from the run origin, scheduled at
    /// 0.5 ms, DNS 0.2 ms, TCP done at 0.5 ms, TLS done at 2 ms, first byte at 10 ms, content
    /// chunks at 21, 31, 51 ms (the last one carrying 2 tokens), end at 52 ms.
    static let trace = RequestTrace(
        index: 0, scheduledAtNanos: 500_000, startedAtNanos: 1_000_000, dnsNanos: 200_000, connectNanos: 500_000,
        tlsNanos: 2_000_000, sentNanos: 2_100_000, firstByteNanos: 10_000_000,
        chunkAtNanos: [21_000_000, 31_000_000, 51_000_000], chunkTokens: [1, 1, 2], endedAtNanos: 52_000_000,
        usage: TokenUsage(promptTokens: 12, completionTokens: 4))

    @Test func phasesAreDifferencesOfCumulativeTimes() {
        #expect(Metric.dns.value(of: Self.trace) == 0.2)
        #expect(Metric.tcp.value(of: Self.trace) == 0.3)
        #expect(Metric.tls.value(of: Self.trace) == 1.5)
        #expect(Metric.ttfb.value(of: Self.trace) == 10)
    }

    @Test func tokenTimings() {
        #expect(Metric.ttft.value(of: Self.trace) == 20)
        #expect(Metric.ttftScheduled.value(of: Self.trace) == 20.5)
        #expect(Metric.queue.value(of: Self.trace) == 0.5)
        // (51 − 21) ms over 4 − 1 gaps
        #expect(Metric.tpot.value(of: Self.trace) == 10)
        // gaps 10 ms (1 token) and 20 ms (2 tokens) → 10 and 10
        #expect(Metric.itl.samples(of: Self.trace) == [10, 10])
        #expect(Metric.e2e.value(of: Self.trace) == 50)
        #expect(Metric.total.value(of: Self.trace) == 51)
        #expect(Metric.inputTokens.value(of: Self.trace) == 12)
        #expect(Metric.outputTokens.value(of: Self.trace) == 4)
    }

    @Test func reusedConnectionHasZeroPhasesAndClosedLoopHasNoQueue() {
        let reused = RequestTrace(
            index: 1, startedAtNanos: 0, sentNanos: 50_000, firstByteNanos: 1_000_000, chunkAtNanos: [3_000_000],
            chunkTokens: [1], endedAtNanos: 3_500_000)
        #expect(Metric.dns.value(of: reused) == 0)
        #expect(Metric.tcp.value(of: reused) == 0)
        #expect(Metric.tls.value(of: reused) == 0)
        #expect(Metric.queue.value(of: reused) == nil)
        #expect(Metric.ttftScheduled.value(of: reused) == 3)
        #expect(Metric.tpot.value(of: reused) == nil)  // one token: no per-token time
        #expect(Metric.itl.samples(of: reused).isEmpty)
        #expect(reused.outputTokens == 1)
        #expect(reused.outputTokenSource == .chunks)
    }

    @Test func summaryLeavesOutWarmupAndFailuresFromLatencies() {
        var warmup = Self.trace
        warmup.isWarmup = true
        warmup.chunkAtNanos = [901_000_000]
        var failed = Self.trace
        failed.index = 2
        failed.outcome = .failed(.http(status: 500), detail: "boom")
        failed.chunkAtNanos = []
        failed.endedAtNanos = 3_000_000
        failed.usage = nil
        failed.chunkTokens = []
        var second = Self.trace
        second.index = 3
        second.startedAtNanos = 2_000_000
        second.chunkAtNanos = [32_000_000, 42_000_000, 62_000_000]
        second.endedAtNanos = 101_000_000
        let summary = RunSummary(traces: [warmup, Self.trace, failed, second])
        #expect(summary.requests == 3)
        #expect(summary.succeeded == 2)
        #expect(summary.failed == 1)
        #expect(summary.warmup == 1)
        #expect(summary.errorsByKind == ["http_500": 1])
        #expect(abs(summary.errorRate - 1.0 / 3.0) < 1e-12)
        // window: first start 1 ms → last end 101 ms = 0.1 s; 8 tokens, 2 requests
        #expect(abs(summary.windowSeconds - 0.1) < 1e-12)
        #expect(abs(summary.outputTokensPerSecond - 80) < 1e-9)
        #expect(abs(summary.requestsPerSecond - 20) < 1e-9)
        #expect(summary.metrics[.ttft]?.count == 2)
        #expect(summary.metrics[.ttft]?.p50 == 25)
        #expect(summary.metrics[.itl]?.count == 4)
        #expect(summary.outputTokensFromUsage == 2)
    }

    @Test func failureKindCodesRoundTrip() {
        let kinds: [FailureKind] = [
            .dns, .connect, .tls, .http(status: 404), .timeout(.firstToken), .timeout(.idle), .streamCut, .decode,
            .cancelled, .transport,
        ]
        for kind in kinds { #expect(FailureKind(code: kind.code) == kind) }
        #expect(FailureKind.timeout(.firstToken).code == "timeout_first_token")
        #expect(FailureKind(code: "http_x") == nil)
    }
}
