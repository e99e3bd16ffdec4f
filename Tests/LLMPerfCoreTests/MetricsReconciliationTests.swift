import Testing

@testable import LLMPerfCore

@Suite struct MetricsReconciliationTests {
    typealias Row = MetricsReconciliation.Row

    static func scrape(
        _ sequence: Int, atSeconds: UInt64, _ samples: [MetricSample], error: String? = nil
    ) -> MetricsScrape {
        MetricsScrape(
            sequence: sequence, atNanos: atSeconds * 1_000_000_000, durationNanos: 2_000_000, samples: samples,
            error: error)
    }

    /// `llmperf serve`'s series at one scrape: cumulative TTFT and e2e buckets, token and request counters.
    static func llmperf(
        ttft: [Double], ttftSum: Double, e2e: [Double], e2eSum: Double, generated: Double, prompt: Double,
        answered: Double, scrapes: Double, failed: Double
    ) -> [MetricSample] {
        let ttftName = "llmperf_time_to_first_token_seconds"
        let e2eName = "llmperf_e2e_request_latency_seconds"
        return promBuckets(ttftName, zip(["0.25", "0.5", "1", "2", "+Inf"], ttft).map { ($0, $1) })
            + [promSample(ttftName + "_sum", ttftSum), promSample(ttftName + "_count", ttft[4])]
            + promBuckets(e2eName, zip(["1", "2", "4", "+Inf"], e2e).map { ($0, $1) })
            + [promSample(e2eName + "_sum", e2eSum), promSample(e2eName + "_count", e2e[3])]
            + [
                promSample("llmperf_generation_tokens_total", generated),
                promSample("llmperf_prompt_tokens_total", prompt),
                promSample("llmperf_requests_total", ["endpoint": "/v1/chat/completions", "status": "200"], answered),
                promSample("llmperf_requests_total", ["endpoint": "/metrics", "status": "200"], scrapes),
                promSample("llmperf_requests_total", ["endpoint": "/v1/chat/completions", "status": "500"], failed),
                promSample("llmperf_requests_running", 3),
            ]
    }

    /// Two scrapes 10 s apart (and a failed one between them). In the window: TTFT buckets
    /// (0.25: 0, 0.5: 16, 1: 32, 2: 40, +Inf: 40), e2e buckets (1: 0, 2: 20, 4: 40, +Inf: 40),
    /// 2048 tokens out, 4096 in, 40 requests answered (the scrapes and the 500s left out). The
    /// traffic before the first scrape (20 requests) is not the run's.
    @Test func comparesTheWindowBetweenTheFirstAndLastScrape() {
        let first = Self.llmperf(
            ttft: [10, 20, 20, 20, 20], ttftSum: 5, e2e: [5, 20, 20, 20], e2eSum: 30, generated: 1000, prompt: 500,
            answered: 20, scrapes: 1, failed: 0)
        let last = Self.llmperf(
            ttft: [10, 36, 52, 60, 60], ttftSum: 35, e2e: [5, 40, 60, 60], e2eSum: 130, generated: 3048, prompt: 4596,
            answered: 60, scrapes: 3, failed: 2)
        let garbage = Self.llmperf(
            ttft: [0, 0, 0, 0, 0], ttftSum: 0, e2e: [0, 0, 0, 0], e2eSum: 0, generated: 999_999, prompt: 0,
            answered: 999, scrapes: 0, failed: 0)
        let client = MetricsReconciliation.ClientSide(
            ttftMillis: .init(p50: 700, p90: 1400, p99: 2100), e2eMillis: .init(p50: 2100), outputTokens: 2000,
            promptTokens: nil, requests: 40)
        let ttftP99: Double = (1 + (0.99 * 40 - 32) / 8) * 1000
        let result = MetricsReconciliation.reconcile(
            scrapes: [
                Self.scrape(3, atSeconds: 11, last), Self.scrape(1, atSeconds: 1, first),
                Self.scrape(2, atSeconds: 6, garbage, error: "timed out"),
            ], client: client)
        #expect(result.server == "llmperf")
        #expect(
            result.rows == [
                // rank 20 → (0.5, 1]: 0.5 + 0.5 × (20 − 16) / 16
                Row(what: "TTFT p50", server: 625, client: 700, unit: .milliseconds),
                // rank 36 → (1, 2]: 1 + 1 × (36 − 32) / 8
                Row(what: "TTFT p90", server: 1500, client: 1400, unit: .milliseconds),
                // rank 39.6 → (1, 2]: 1 + 1 × (39.6 − 32) / 8
                Row(what: "TTFT p99", server: ttftP99, client: 2100, unit: .milliseconds),
                // rank 20 reaches (1, 2] exactly: its upper bound
                Row(what: "E2E p50", server: 2000, client: 2100, unit: .milliseconds),
                Row(what: "Output tokens", server: 2048, client: 2000, unit: .tokens),
                Row(what: "Requests", server: 40, client: 40, unit: .requests),
            ])
        let differences: [Double?] = [75, -100, 2100 - ttftP99, 100, -48, 0]
        #expect(result.rows.map(\.difference) == differences)
    }

    @Test func promptTokensAreComparedWhenTheClientHasThem() {
        let samples = { (prompt: Double) in [promSample("vllm:prompt_tokens_total", ["engine": "0"], prompt)] }
        let result = MetricsReconciliation.reconcile(
            scrapes: [Self.scrape(1, atSeconds: 0, samples(100)), Self.scrape(2, atSeconds: 5, samples(612))],
            client: .init(outputTokens: 0, promptTokens: 500, requests: 0))
        #expect(
            result
                == MetricsReconciliation(
                    rows: [Row(what: "Prompt tokens", server: 512, client: 500, unit: .tokens)], server: "vLLM"))
    }

    /// A counter that goes down (the server restarted) counts from zero after the drop, as
    /// Prometheus's `increase` does: 100 → 300 is 200, then 50 after the restart.
    @Test func aCounterResetCountsFromZero() {
        let samples = { (tokens: Double) in [promSample("sglang:generation_tokens_total", tokens)] }
        let result = MetricsReconciliation.reconcile(
            scrapes: [
                Self.scrape(1, atSeconds: 0, samples(100)), Self.scrape(2, atSeconds: 5, samples(300)),
                Self.scrape(3, atSeconds: 10, samples(50)),
            ], client: .init(outputTokens: 260, requests: 0))
        #expect(result.rows == [Row(what: "Output tokens", server: 250, client: 260, unit: .tokens)])
    }

    /// TGI has no TTFT histogram and exports a counter only once it moved: its rows are end-to-end
    /// latency, tokens (its per-request histogram's sum) and requests, counted from zero.
    @Test func tgiGivesTheRowsItHas() throws {
        let before = [promSample("tgi_queue_size", 0)]
        let after = try PrometheusExposition.parse(PrometheusFixtures.tgi).flatMap(\.samples)
        let p50: Double = (0.75 + 0.375 * (15.0 / 24)) * 1000
        let p90: Double = (1.125 + 0.5625 * ((0.9 * 42 - 30) / 11)) * 1000
        let result = MetricsReconciliation.reconcile(
            scrapes: [Self.scrape(1, atSeconds: 0, before), Self.scrape(2, atSeconds: 30, after)],
            client: .init(
                ttftMillis: .init(p50: 100), e2eMillis: .init(p50: 1000, p90: 1500), outputTokens: 4000, requests: 42))
        #expect(
            result.rows == [
                // rank 21 → (0.75, 1.125]: 0.75 + 0.375 × (21 − 6) / 24
                Row(what: "E2E p50", server: p50, client: 1000, unit: .milliseconds),
                // rank 37.8 → (1.125, 1.6875]: 1.125 + 0.5625 × (37.8 − 30) / 11
                Row(what: "E2E p90", server: p90, client: 1500, unit: .milliseconds),
                Row(what: "Output tokens", server: 4032, client: 4000, unit: .tokens),
                Row(what: "Requests", server: 42, client: 42, unit: .requests),
            ])
        #expect(result.server == "TGI")
    }

    @Test func withoutTwoSuccessfulScrapesThereIsNothingToCompare() {
        let samples = [promSample("llmperf_generation_tokens_total", 10)]
        let client = MetricsReconciliation.ClientSide(outputTokens: 10, requests: 1)
        #expect(MetricsReconciliation.reconcile(scrapes: [], client: client).rows.isEmpty)
        let one = [
            Self.scrape(1, atSeconds: 0, samples), Self.scrape(2, atSeconds: 1, samples, error: "connection refused"),
        ]
        #expect(MetricsReconciliation.reconcile(scrapes: one, client: client) == MetricsReconciliation(rows: []))
        let unknown = [
            Self.scrape(1, atSeconds: 0, [promSample("other", 1)]),
            Self.scrape(2, atSeconds: 1, [promSample("other", 2)]),
        ]
        #expect(MetricsReconciliation.reconcile(scrapes: unknown, client: client) == MetricsReconciliation(rows: []))
    }

    @Test func unitsMapToTheReportsUnits() {
        #expect(MetricsReconciliation.Unit.milliseconds.measureUnit == .milliseconds)
        #expect(MetricsReconciliation.Unit.tokens.measureUnit == .tokens)
        #expect(MetricsReconciliation.Unit.requests.measureUnit == nil)
        #expect(Row(what: "x", server: nil, client: 1, unit: .tokens).difference == nil)
    }
}
