import Testing

@testable import LLMPerfCore

@Suite struct ServerMetricCatalogTests {
    /// Each server's names, as its source and documentation give them (see ServerMetricCatalog).
    static let expected: [(String, ServerMetricMeaning, String)] = [
        ("vllm:num_requests_running", .requestsRunning, "vLLM"),
        ("vllm:num_requests_waiting", .requestsWaiting, "vLLM"),
        ("vllm:kv_cache_usage_perc", .kvCacheUsage, "vLLM"),
        ("vllm:gpu_cache_usage_perc", .kvCacheUsage, "vLLM"),
        ("vllm:time_to_first_token_seconds", .ttftSeconds, "vLLM"),
        ("vllm:e2e_request_latency_seconds", .e2eSeconds, "vLLM"),
        ("vllm:time_per_output_token_seconds", .timePerOutputTokenSeconds, "vLLM"),
        ("vllm:inter_token_latency_seconds", .timePerOutputTokenSeconds, "vLLM"),
        ("vllm:request_queue_time_seconds", .queueSeconds, "vLLM"),
        ("vllm:request_prefill_time_seconds", .prefillSeconds, "vLLM"),
        ("vllm:request_decode_time_seconds", .decodeSeconds, "vLLM"),
        ("vllm:prompt_tokens_total", .promptTokensTotal, "vLLM"),
        ("vllm:generation_tokens_total", .generationTokensTotal, "vLLM"),
        ("vllm:request_success_total", .requestsTotal, "vLLM"),
        ("vllm:prefix_cache_hits_total", .prefixCacheHitsTotal, "vLLM"),
        ("vllm:prefix_cache_queries_total", .prefixCacheQueriesTotal, "vLLM"),
        ("sglang:num_running_reqs", .requestsRunning, "SGLang"),
        ("sglang:num_queue_reqs", .requestsWaiting, "SGLang"),
        ("sglang:token_usage", .kvCacheUsage, "SGLang"),
        ("sglang:time_to_first_token_seconds", .ttftSeconds, "SGLang"),
        ("sglang:e2e_request_latency_seconds", .e2eSeconds, "SGLang"),
        ("sglang:inter_token_latency_seconds", .timePerOutputTokenSeconds, "SGLang"),
        ("sglang:time_per_output_token_seconds", .timePerOutputTokenSeconds, "SGLang"),
        ("sglang:queue_time_seconds", .queueSeconds, "SGLang"),
        ("sglang:prompt_tokens_total", .promptTokensTotal, "SGLang"),
        ("sglang:generation_tokens_total", .generationTokensTotal, "SGLang"),
        ("sglang:num_requests_total", .requestsTotal, "SGLang"),
        ("sglang:cached_tokens_total", .prefixCacheHitsTotal, "SGLang"),
        ("tgi_queue_size", .requestsWaiting, "TGI"),
        ("tgi_batch_current_size", .requestsRunning, "TGI"),
        ("tgi_request_duration", .e2eSeconds, "TGI"),
        ("tgi_request_queue_duration", .queueSeconds, "TGI"),
        ("tgi_request_mean_time_per_token_duration", .timePerOutputTokenSeconds, "TGI"),
        ("tgi_request_validation_duration", .preprocessSeconds, "TGI"),
        ("tgi_request_input_length", .promptTokensTotal, "TGI"),
        ("tgi_request_generated_tokens", .generationTokensTotal, "TGI"),
        ("tgi_request_success", .requestsTotal, "TGI"),
        ("llamacpp:requests_processing", .requestsRunning, "llama.cpp"),
        ("llamacpp:requests_deferred", .requestsWaiting, "llama.cpp"),
        ("llamacpp:kv_cache_usage_ratio", .kvCacheUsage, "llama.cpp"),
        ("llamacpp:prompt_tokens_total", .promptTokensTotal, "llama.cpp"),
        ("llamacpp:tokens_predicted_total", .generationTokensTotal, "llama.cpp"),
        ("llamacpp:prompt_tokens_cached_total", .prefixCacheHitsTotal, "llama.cpp"),
        ("llmperf_requests_running", .requestsRunning, "llmperf"),
        ("llmperf_requests_waiting", .requestsWaiting, "llmperf"),
        ("llmperf_batch_occupancy", .batchSize, "llmperf"),
        ("llmperf_time_to_first_token_seconds", .ttftSeconds, "llmperf"),
        ("llmperf_e2e_request_latency_seconds", .e2eSeconds, "llmperf"),
        ("llmperf_time_per_output_token_seconds", .timePerOutputTokenSeconds, "llmperf"),
        ("llmperf_prompt_tokens_total", .promptTokensTotal, "llmperf"),
        ("llmperf_generation_tokens_total", .generationTokensTotal, "llmperf"),
        ("llmperf_requests_total", .requestsTotal, "llmperf"),
        ("llmperf_request_queue_seconds", .queueSeconds, "llmperf"),
        ("llmperf_request_prefill_seconds", .prefillSeconds, "llmperf"),
        ("llmperf_request_decode_seconds", .decodeSeconds, "llmperf"),
        ("llmperf_request_preprocess_seconds", .preprocessSeconds, "llmperf"),
        ("llmperf_request_postprocess_seconds", .postprocessSeconds, "llmperf"),
        ("llmperf_prefix_cache_hits_total", .prefixCacheHitsTotal, "llmperf"),
        ("llmperf_prefix_cache_lookups_total", .prefixCacheQueriesTotal, "llmperf"),
    ]

    @Test(arguments: expected)
    func mapsEachServersNames(family: String, meaning: ServerMetricMeaning, server: String) throws {
        let found = try #require(ServerMetricCatalog.meaning(ofFamily: family))
        #expect(found.0 == meaning && found.server == server && found.scale == 1)
    }

    @Test func countersAreFoundByEitherSpelling() {
        #expect(ServerMetricCatalog.meaning(ofFamily: "vllm:prompt_tokens")?.0 == .promptTokensTotal)
        #expect(ServerMetricCatalog.meaning(ofFamily: "tgi_request_success_total")?.0 == .requestsTotal)
        #expect(ServerMetricCatalog.meaning(ofFamily: "vllm:num_requests_running_total") == nil)
        #expect(ServerMetricCatalog.meaning(ofFamily: "vllm:time_to_first_token_seconds_total") == nil)
        #expect(ServerMetricCatalog.meaning(ofFamily: "vllm:iteration_tokens_total") == nil)
    }

    /// The families each fixture holds that the catalog knows, and what they mean.
    @Test func recognizesEachFixturesFamilies() throws {
        func meanings(_ text: String) throws -> [String: ServerMetricMeaning] {
            var found: [String: ServerMetricMeaning] = [:]
            for family in try PrometheusExposition.parse(text) {
                if let meaning = ServerMetricCatalog.meaning(ofFamily: family.name) { found[family.name] = meaning.0 }
            }
            return found
        }
        #expect(
            try meanings(PrometheusFixtures.vllm) == [
                "vllm:num_requests_running": .requestsRunning, "vllm:num_requests_waiting": .requestsWaiting,
                "vllm:kv_cache_usage_perc": .kvCacheUsage, "vllm:generation_tokens_total": .generationTokensTotal,
                "vllm:request_success_total": .requestsTotal, "vllm:time_to_first_token_seconds": .ttftSeconds,
            ])
        #expect(
            try meanings(PrometheusFixtures.sglang) == [
                "sglang:num_running_reqs": .requestsRunning, "sglang:num_queue_reqs": .requestsWaiting,
                "sglang:token_usage": .kvCacheUsage, "sglang:prompt_tokens_total": .promptTokensTotal,
                "sglang:generation_tokens_total": .generationTokensTotal, "sglang:num_requests_total": .requestsTotal,
                "sglang:inter_token_latency_seconds": .timePerOutputTokenSeconds,
            ])
        #expect(
            try meanings(PrometheusFixtures.tgi) == [
                "tgi_request_success": .requestsTotal, "tgi_queue_size": .requestsWaiting,
                "tgi_batch_current_size": .requestsRunning, "tgi_request_duration": .e2eSeconds,
                "tgi_request_generated_tokens": .generationTokensTotal,
            ])
        #expect(
            try meanings(PrometheusFixtures.llamaCpp) == [
                "llamacpp:prompt_tokens_total": .promptTokensTotal,
                "llamacpp:tokens_predicted_total": .generationTokensTotal,
                "llamacpp:kv_cache_usage_ratio": .kvCacheUsage, "llamacpp:requests_processing": .requestsRunning,
                "llamacpp:requests_deferred": .requestsWaiting,
            ])
        #expect(
            try meanings(PrometheusFixtures.llmperf) == [
                "llmperf_requests_total": .requestsTotal, "llmperf_prompt_tokens_total": .promptTokensTotal,
                "llmperf_generation_tokens_total": .generationTokensTotal,
                "llmperf_requests_running": .requestsRunning, "llmperf_requests_waiting": .requestsWaiting,
                "llmperf_time_to_first_token_seconds": .ttftSeconds,
            ])
    }

    @Test func everyMeaningHasAServerATitleAndAKind() {
        for meaning in ServerMetricMeaning.allCases {
            #expect(!ServerMetricCatalog.entries(for: meaning).isEmpty, "\(meaning)")
        }
        #expect(Set(ServerMetricMeaning.allCases.map(\.title)).count == ServerMetricMeaning.allCases.count)
        #expect(ServerMetricMeaning.kvCacheUsage.kind == .gauge)
        #expect(ServerMetricMeaning.ttftSeconds.kind == .histogram)
        #expect(ServerMetricMeaning.requestsTotal.kind == .counter)
        #expect(ServerMetricMeaning.ttftSeconds.title == "Time to first token")
        #expect(ServerMetricCatalog.entries(for: .batchSize).map(\.server) == ["TGI", "llmperf"])
    }

    /// `llmperf serve` counts every HTTP request, its own scrapes too: only answered requests to
    /// generation endpoints count as finished requests.
    @Test func llmperfCountsOnlyAnsweredGenerationRequests() throws {
        let samples = try PrometheusExposition.parse(PrometheusFixtures.llmperf).flatMap(\.samples)
        let entry = try #require(ServerMetricCatalog.entry(ofFamily: "llmperf_requests_total"))
        #expect(entry.value(in: samples) == 64)
    }

    @Test func aShareIsAveragedOverEnginesAndCountsAreSummed() throws {
        let samples = [
            promSample("vllm:kv_cache_usage_perc", ["engine": "0"], 0.5),
            promSample("vllm:kv_cache_usage_perc", ["engine": "1"], 0.25),
            promSample("vllm:num_requests_running", ["engine": "0"], 3),
            promSample("vllm:num_requests_running", ["engine": "1"], 4),
        ]
        #expect(
            try #require(ServerMetricCatalog.entry(ofFamily: "vllm:kv_cache_usage_perc")).value(in: samples) == 0.375)
        #expect(try #require(ServerMetricCatalog.entry(ofFamily: "vllm:num_requests_running")).value(in: samples) == 7)
        #expect(
            try #require(ServerMetricCatalog.entry(ofFamily: "vllm:num_requests_waiting")).value(in: samples) == nil)
    }

    /// TGI counts tokens only in per-request histograms: their `_sum` is the counter.
    @Test func tgiTokensAreTheSumOfTheirHistogram() throws {
        let samples = try PrometheusExposition.parse(PrometheusFixtures.tgi).flatMap(\.samples)
        #expect(
            try #require(ServerMetricCatalog.entry(ofFamily: "tgi_request_generated_tokens")).value(in: samples) == 4032
        )
    }

    /// A scale multiplies a gauge's value and a histogram's bounds and sum (a server in milliseconds).
    @Test func scaleConvertsUnits() {
        let gauge = ServerMetricCatalog.Entry("busy_percent", .kvCacheUsage, server: "x", scale: 0.01)
        #expect(gauge.value(in: [promSample("busy_percent", 50)]) == 0.5)
        let millis = ServerMetricCatalog.Entry("ttft_ms", .ttftSeconds, server: "x", scale: 0.001)
        let samples = promBuckets("ttft_ms", [("250", 1), ("+Inf", 2)]) + [promSample("ttft_ms_sum", 500)]
        #expect(
            millis.histogram(in: samples)
                == HistogramSnapshot(
                    buckets: [
                        HistogramBucket(upperBound: 0.25, cumulativeCount: 1),
                        HistogramBucket(upperBound: .infinity, cumulativeCount: 2),
                    ], sum: 0.5, count: 2))
    }

    /// A deprecated twin exported beside its current name is not read: the current name comes first.
    @Test func theCurrentNameWinsOverItsDeprecatedTwin() {
        let scrape = MetricsScrape(
            sequence: 1, atNanos: 0, durationNanos: 0,
            samples: [
                promSample("vllm:gpu_cache_usage_perc", 0.9), promSample("vllm:kv_cache_usage_perc", 0.5),
            ])
        #expect(ServerMetricCatalog.entry(for: .kvCacheUsage, in: [scrape])?.name == "vllm:kv_cache_usage_perc")
        let old = MetricsScrape(
            sequence: 1, atNanos: 0, durationNanos: 0, samples: [promSample("vllm:gpu_cache_usage_perc", 0.9)])
        #expect(ServerMetricCatalog.entry(for: .kvCacheUsage, in: [old])?.name == "vllm:gpu_cache_usage_perc")
        let failed = MetricsScrape(
            sequence: 1, atNanos: 0, durationNanos: 0, samples: scrape.samples, error: "HTTP 500")
        #expect(ServerMetricCatalog.entry(for: .kvCacheUsage, in: [failed]) == nil)
    }
}
