import Foundation
import LLMPerfCore
import Testing

@testable import LLMPerfExporter

/// `ClientMetrics` over fake sends and traces: exact counts in the registry's own exposition.
@Suite struct ClientMetricsTests {
    /// The value of the one series written `series` (name and labels as emitted), nil when absent.
    static func value(_ series: String, in text: String) -> Double? {
        let lines = text.split(separator: "\n").filter { $0.hasPrefix(series + " ") }
        guard lines.count == 1, let last = lines[0].split(separator: " ").last else { return nil }
        return Double(last)
    }

    static func info(_ id: String, variant: String? = nil) -> RunInfo {
        RunInfo(id: id, name: "chat", variant: variant, batchID: "b1", startedAt: Date(timeIntervalSince1970: 0))
    }

    /// An ok answer of four one-token chunks 10 ms apart, the first 50 ms after the start.
    static func answer(_ index: Int, warmup: Bool = false, scheduledAt: UInt64? = nil) -> RequestTrace {
        let start: UInt64 = 1_000_000_000 + UInt64(index) * 100_000_000
        return RequestTrace(
            index: index, isWarmup: warmup, scheduledAtNanos: scheduledAt.map { start - $0 }, startedAtNanos: start,
            chunkAtNanos: [50, 60, 70, 80].map { start + $0 * 1_000_000 }, chunkTokens: [1, 1, 1, 1],
            endedAtNanos: start + 81_000_000, usage: TokenUsage(promptTokens: 7, completionTokens: 4))
    }

    static func failure(_ index: Int, _ kind: FailureKind, chunks: Int = 0) -> RequestTrace {
        let start: UInt64 = 5_000_000_000
        return RequestTrace(
            index: index, startedAtNanos: start, chunkAtNanos: (0..<chunks).map { start + UInt64($0 + 1) * 1_000_000 },
            chunkTokens: Array(repeating: 1, count: chunks), endedAtNanos: start + 90_000_000,
            outcome: .failed(kind, detail: "fake"))
    }

    @Test func countsEachOutcomeAndEveryLatencyAndInFlightReturnsToZero() {
        let metrics = ClientMetrics()
        let text = { metrics.registry.emitToString() }
        metrics.runStarted(Self.info("r1", variant: "fast"), originNanos: 0)
        #expect(Self.value(#"llmperf_client_run_info{run_id="r1",name="chat",variant="fast"}"#, in: text()) == 1)
        #expect(Self.value("llmperf_client_run_active", in: text()) == 1)
        #expect(Self.value(#"llmperf_client_requests_total{outcome="ok"}"#, in: text()) == 0)

        let orders = (0..<7).map { RequestOrder(index: $0, isWarmup: $0 < 2, promptIndex: 0) }
        for order in orders { metrics.requestSent(order, atNanos: 0) }
        #expect(Self.value("llmperf_client_requests_sent_total", in: text()) == 5)
        #expect(Self.value("llmperf_client_requests_in_flight", in: text()) == 5)

        metrics.requestFinished(Self.answer(0, warmup: true))
        metrics.requestFinished(Self.failure(1, .http(status: 503)).with { $0.isWarmup = true })
        metrics.requestFinished(Self.answer(2, scheduledAt: 3_000_000))  // left 3 ms late
        metrics.requestFinished(Self.answer(3, scheduledAt: 0))
        metrics.requestFinished(Self.answer(4))
        #expect(Self.value("llmperf_client_requests_in_flight", in: text()) == 2)
        metrics.requestFinished(Self.failure(5, .http(status: 500)))
        metrics.requestFinished(Self.failure(6, .timeout(.idle), chunks: 3))
        metrics.runEnded(Self.info("r1", variant: "fast"))

        let out = text()
        #expect(Self.value("llmperf_client_requests_in_flight", in: out) == 0)
        #expect(Self.value("llmperf_client_run_active", in: out) == 0)
        #expect(Self.value(#"llmperf_client_requests_total{outcome="ok"}"#, in: out) == 3)
        #expect(Self.value(#"llmperf_client_requests_total{outcome="http_500"}"#, in: out) == 1)
        #expect(Self.value(#"llmperf_client_requests_total{outcome="timeout_idle"}"#, in: out) == 1)
        #expect(Self.value(#"llmperf_client_requests_total{outcome="http_503"}"#, in: out) == nil)
        #expect(Self.value(#"llmperf_client_warmup_requests_total{outcome="ok"}"#, in: out) == 1)
        #expect(Self.value(#"llmperf_client_warmup_requests_total{outcome="http_503"}"#, in: out) == 1)
        // Three answers of 4 tokens, and the 3 chunks the cut stream got before its timeout.
        #expect(Self.value("llmperf_client_output_tokens_total", in: out) == 15)
        // Latencies of the ok requests only, in seconds: TTFT 50 ms, TPOT 10 ms, E2E 80 ms, three 10 ms gaps each.
        for (name, count) in [
            ("time_to_first_token", 3.0), ("time_per_output_token", 3), ("e2e_request_latency", 3),
            ("inter_token_latency", 9),
        ] {
            #expect(Self.value("llmperf_client_\(name)_seconds_count", in: out) == count, "\(name)")
        }
        #expect(Self.value(#"llmperf_client_time_to_first_token_seconds_bucket{le="0.025"}"#, in: out) == 0)
        #expect(Self.value(#"llmperf_client_time_to_first_token_seconds_bucket{le="0.05"}"#, in: out) == 3)
        #expect(Self.value(#"llmperf_client_e2e_request_latency_seconds_bucket{le="0.075"}"#, in: out) == 0)
        #expect(Self.value(#"llmperf_client_e2e_request_latency_seconds_bucket{le="0.1"}"#, in: out) == 3)
        #expect(Self.value(#"llmperf_client_inter_token_latency_seconds_bucket{le="0.0075"}"#, in: out) == 0)
        #expect(Self.value(#"llmperf_client_inter_token_latency_seconds_bucket{le="0.01"}"#, in: out) == 9)
        let ttftSum = Self.value("llmperf_client_time_to_first_token_seconds_sum", in: out) ?? 0
        #expect(abs(ttftSum - 0.15) < 1e-9)
        // Open loop only: one request 3 ms late, one on time; the closed-loop one has no schedule.
        #expect(Self.value("llmperf_client_schedule_lag_seconds_count", in: out) == 2)
        #expect(Self.value(#"llmperf_client_schedule_lag_seconds_bucket{le="0.0001"}"#, in: out) == 1)
        #expect(Self.value(#"llmperf_client_schedule_lag_seconds_bucket{le="0.0025"}"#, in: out) == 1)
        #expect(Self.value(#"llmperf_client_schedule_lag_seconds_bucket{le="0.005"}"#, in: out) == 2)
    }

    @Test func theNextRunReplacesTheRunInfoAndCountersAddUp() {
        let metrics = ClientMetrics()
        for (id, variant) in [("r1", "c1"), ("r2", "c2")] {
            metrics.runStarted(Self.info(id, variant: variant), originNanos: 0)
            metrics.requestSent(RequestOrder(index: 0, isWarmup: false, promptIndex: 0), atNanos: 0)
            metrics.requestFinished(Self.answer(0))
            metrics.runEnded(Self.info(id, variant: variant))
        }
        let out = metrics.registry.emitToString()
        #expect(Self.value(#"llmperf_client_run_info{run_id="r2",name="chat",variant="c2"}"#, in: out) == 1)
        #expect(!out.contains(#"run_id="r1""#))
        #expect(Self.value(#"llmperf_client_requests_total{outcome="ok"}"#, in: out) == 2)
        #expect(Self.value("llmperf_client_requests_in_flight", in: out) == 0)
    }
}

extension RequestTrace {
    fileprivate func with(_ change: (inout RequestTrace) -> Void) -> RequestTrace {
        var copy = self
        change(&copy)
        return copy
    }
}
