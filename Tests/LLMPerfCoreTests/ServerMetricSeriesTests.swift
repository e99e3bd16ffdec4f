import Testing

@testable import LLMPerfCore

@Suite struct ServerMetricSeriesTests {
    typealias Point = ServerMetricSeries.Point

    static func scrape(atSeconds: UInt64, _ samples: [MetricSample], error: String? = nil) -> MetricsScrape {
        MetricsScrape(sequence: 0, atNanos: atSeconds * 1_000_000_000, durationNanos: 0, samples: samples, error: error)
    }

    @Test func aGaugeIsItsValueAtEachScrape() {
        let scrapes = [
            Self.scrape(
                atSeconds: 2,
                [
                    promSample("vllm:num_requests_running", ["engine": "0"], 3),
                    promSample("vllm:num_requests_running", ["engine": "1"], 4),
                    promSample("vllm:kv_cache_usage_perc", ["engine": "0"], 0.5),
                    promSample("vllm:kv_cache_usage_perc", ["engine": "1"], 0.25),
                ]),
            Self.scrape(atSeconds: 1, [promSample("vllm:num_requests_running", ["engine": "0"], 1)]),
            Self.scrape(atSeconds: 3, [promSample("vllm:num_requests_running", 9)], error: "HTTP 503"),
            Self.scrape(atSeconds: 4, [promSample("vllm:num_requests_waiting", 2)]),
        ]
        #expect(
            ServerMetricSeries.series(.requestsRunning, from: scrapes) == [
                Point(atNanos: 1_000_000_000, value: 1), Point(atNanos: 2_000_000_000, value: 7),
            ])
        #expect(
            ServerMetricSeries.series(.kvCacheUsage, from: scrapes) == [Point(atNanos: 2_000_000_000, value: 0.375)])
        #expect(ServerMetricSeries.series(.batchSize, from: scrapes) == [])
    }

    /// A counter's rate between scrapes: 100 → 300 over 2 s, 300 → 700 over 2 s (a failed scrape
    /// between them skipped), then a restart: 50 over the last second.
    @Test func aCounterIsItsRatePerSecond() {
        let tokens = { (value: Double) in [promSample("llmperf_generation_tokens_total", value)] }
        let scrapes = [
            Self.scrape(atSeconds: 1, tokens(100)), Self.scrape(atSeconds: 3, tokens(300)),
            Self.scrape(atSeconds: 4, tokens(5000), error: "timed out"), Self.scrape(atSeconds: 5, tokens(700)),
            Self.scrape(atSeconds: 6, tokens(50)),
        ]
        #expect(
            ServerMetricSeries.series(.generationTokensTotal, from: scrapes) == [
                Point(atNanos: 3_000_000_000, value: 100), Point(atNanos: 5_000_000_000, value: 200),
                Point(atNanos: 6_000_000_000, value: 50),
            ])
    }

    /// TGI's counters appear on first use: before that they were zero.
    @Test func aCounterCreatedOnFirstUseStartsFromZero() {
        let scrapes = [
            Self.scrape(atSeconds: 1, [promSample("tgi_queue_size", 0)]),
            Self.scrape(atSeconds: 3, [promSample("tgi_request_success", 10)]),
            Self.scrape(atSeconds: 4, [promSample("tgi_queue_size", 0)]),
            Self.scrape(atSeconds: 5, [promSample("tgi_request_success", 14)]),
        ]
        #expect(
            ServerMetricSeries.series(.requestsTotal, from: scrapes) == [
                Point(atNanos: 3_000_000_000, value: 5), Point(atNanos: 5_000_000_000, value: 2),
            ])
    }

    /// A histogram's series is the mean of each interval's observations: 4 observations summing to
    /// 2 s, none, then one of 1.5 s.
    @Test func aHistogramIsEachIntervalsMean() {
        let name = "llmperf_time_to_first_token_seconds"
        let ttft = { (count: Double, sum: Double) in
            promBuckets(name, [("1", count), ("+Inf", count)])
                + [promSample(name + "_sum", sum), promSample(name + "_count", count)]
        }
        let scrapes = [
            Self.scrape(atSeconds: 1, ttft(2, 1)), Self.scrape(atSeconds: 2, ttft(6, 3)),
            Self.scrape(atSeconds: 3, ttft(6, 3)), Self.scrape(atSeconds: 4, ttft(7, 4.5)),
        ]
        #expect(
            ServerMetricSeries.series(.ttftSeconds, from: scrapes) == [
                Point(atNanos: 2_000_000_000, value: 0.5), Point(atNanos: 4_000_000_000, value: 1.5),
            ])
        // Absent at the first scrape (created on first use): everything up to the second is its interval.
        let late = [Self.scrape(atSeconds: 1, [])] + scrapes.dropFirst()
        #expect(ServerMetricSeries.series(.ttftSeconds, from: late).first == Point(atNanos: 2_000_000_000, value: 0.5))
    }
}
