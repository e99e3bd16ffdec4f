import Foundation

/// The metrics that vLLM, SGLang, TGI, llama.cpp's llama-server and `llmperf serve` expose on
/// `/metrics`, mapped to what they mean (`ServerMetricMeaning`), with the factor that brings each
/// to the meaning's unit. Where a server has renamed a metric, both names are listed, the current
/// one first: a reader takes the first entry of a meaning that a scrape holds (`entries(for:)`),
/// so a server that still exports a deprecated twin of a metric is not counted twice.
public enum ServerMetricCatalog {
    /// One metric of one server.
    public struct Entry: Sendable, Equatable {
        /// A gauge's or counter's series name as the server writes it (counters with their
        /// `_total` where the server writes one); a histogram's family name (its series add
        /// `_bucket`, `_sum` and `_count`).
        public var name: String
        public var meaning: ServerMetricMeaning
        /// The server's name: `vLLM`, `SGLang`, `TGI`, `llama.cpp` or `llmperf`.
        public var server: String
        /// Multiplies the server's values into the meaning's unit (seconds, fractions of 1, counts).
        public var scale: Double
        /// The counter is the `_sum` of a histogram of per-request counts (TGI exports tokens only so).
        public var readsHistogramSum: Bool
        /// Only series with all of these labels count.
        public var requiredLabels: [MetricLabel]
        /// Series with any of these labels do not count.
        public var excludedLabels: [MetricLabel]

        public init(
            _ name: String, _ meaning: ServerMetricMeaning, server: String, scale: Double = 1,
            readsHistogramSum: Bool = false, requiredLabels: [MetricLabel] = [], excludedLabels: [MetricLabel] = []
        ) {
            self.name = name
            self.meaning = meaning
            self.server = server
            self.scale = scale
            self.readsHistogramSum = readsHistogramSum
            self.requiredLabels = requiredLabels
            self.excludedLabels = excludedLabels
        }
    }

    /// What the family `name` means, which server exports it, and the factor to the meaning's unit;
    /// nil for a family the catalog does not know. A counter is found by either spelling of its
    /// family, with `_total` (as Prometheus's Python client declares it) or without (OpenMetrics).
    public static func meaning(ofFamily name: String) -> (ServerMetricMeaning, server: String, scale: Double)? {
        guard let entry = entry(ofFamily: name) else { return nil }
        return (entry.meaning, entry.server, entry.scale)
    }

    /// The catalog's entry for the family `name` (see `meaning(ofFamily:)`).
    public static func entry(ofFamily name: String) -> Entry? {
        if let index = byName[name] { return entries[index] }
        let other = name.hasSuffix("_total") ? String(name.dropLast(6)) : name + "_total"
        if let index = byName[other], entries[index].meaning.kind == .counter { return entries[index] }
        return nil
    }

    /// The entries of `meaning`, in the order a reader should try them: by server, the current name first.
    public static func entries(for meaning: ServerMetricMeaning) -> [Entry] {
        entries.filter { $0.meaning == meaning }
    }

    /// Every entry, server by server.
    public static let entries: [Entry] = vllm + sglang + tgi + llamaCpp + llmperf

    private static let byName: [String: Int] = Dictionary(
        entries.enumerated().map { ($0.element.name, $0.offset) }, uniquingKeysWith: { first, _ in first })

    /// vLLM's V1 engine: vllm-project/vllm `vllm/v1/metrics/loggers.py` (`PrometheusStatLogger`) and
    /// `docs/design/metrics.md`. Every series carries `model_name` and `engine` labels (one engine per
    /// data-parallel rank); counters are declared with `_total` by prometheus_client. The `_perc`
    /// gauges are fractions despite their name ("1 means 100 percent usage"), so their scale is 1.
    /// `gpu_cache_usage_perc`, `gpu_prefix_cache_*` and `time_per_output_token_seconds` are the
    /// deprecated twins of `kv_cache_usage_perc`, `prefix_cache_*` and `inter_token_latency_seconds`.
    static let vllm: [Entry] = [
        Entry("vllm:num_requests_running", .requestsRunning, server: "vLLM"),
        Entry("vllm:num_requests_waiting", .requestsWaiting, server: "vLLM"),
        Entry("vllm:kv_cache_usage_perc", .kvCacheUsage, server: "vLLM"),
        Entry("vllm:gpu_cache_usage_perc", .kvCacheUsage, server: "vLLM"),
        Entry("vllm:time_to_first_token_seconds", .ttftSeconds, server: "vLLM"),
        Entry("vllm:e2e_request_latency_seconds", .e2eSeconds, server: "vLLM"),
        Entry("vllm:inter_token_latency_seconds", .timePerOutputTokenSeconds, server: "vLLM"),
        Entry("vllm:time_per_output_token_seconds", .timePerOutputTokenSeconds, server: "vLLM"),
        Entry("vllm:request_queue_time_seconds", .queueSeconds, server: "vLLM"),
        Entry("vllm:request_prefill_time_seconds", .prefillSeconds, server: "vLLM"),
        Entry("vllm:request_decode_time_seconds", .decodeSeconds, server: "vLLM"),
        Entry("vllm:prompt_tokens_total", .promptTokensTotal, server: "vLLM"),
        Entry("vllm:generation_tokens_total", .generationTokensTotal, server: "vLLM"),
        // By `finished_reason` (stop, length, abort): summed.
        Entry("vllm:request_success_total", .requestsTotal, server: "vLLM"),
        // In tokens: the tokens looked up and the tokens found cached.
        Entry("vllm:prefix_cache_hits_total", .prefixCacheHitsTotal, server: "vLLM"),
        Entry("vllm:prefix_cache_queries_total", .prefixCacheQueriesTotal, server: "vLLM"),
        Entry("vllm:gpu_prefix_cache_hits_total", .prefixCacheHitsTotal, server: "vLLM"),
        Entry("vllm:gpu_prefix_cache_queries_total", .prefixCacheQueriesTotal, server: "vLLM"),
    ]

    /// SGLang: sgl-project/sglang `python/sglang/srt/metrics/collector.py` (`SchedulerMetricsCollector`,
    /// `TokenizerMetricsCollector`). `token_usage` is the used share of the KV pool (0 to 1). Older
    /// releases call the inter-token histogram `time_per_output_token_seconds`. `cache_hit_rate` is
    /// a gauge of a rate, not a counter, so it is left out; `cached_tokens_total` (prompt tokens served
    /// from the radix cache) is the hits counter, and SGLang has no queries counter (its prompt
    /// tokens are the natural denominator).
    static let sglang: [Entry] = [
        Entry("sglang:num_running_reqs", .requestsRunning, server: "SGLang"),
        Entry("sglang:num_queue_reqs", .requestsWaiting, server: "SGLang"),
        Entry("sglang:token_usage", .kvCacheUsage, server: "SGLang"),
        Entry("sglang:time_to_first_token_seconds", .ttftSeconds, server: "SGLang"),
        Entry("sglang:e2e_request_latency_seconds", .e2eSeconds, server: "SGLang"),
        Entry("sglang:inter_token_latency_seconds", .timePerOutputTokenSeconds, server: "SGLang"),
        Entry("sglang:time_per_output_token_seconds", .timePerOutputTokenSeconds, server: "SGLang"),
        Entry("sglang:queue_time_seconds", .queueSeconds, server: "SGLang"),
        Entry("sglang:prompt_tokens_total", .promptTokensTotal, server: "SGLang"),
        Entry("sglang:generation_tokens_total", .generationTokensTotal, server: "SGLang"),
        Entry("sglang:num_requests_total", .requestsTotal, server: "SGLang"),
        Entry("sglang:cached_tokens_total", .prefixCacheHitsTotal, server: "SGLang"),
    ]

    /// Text Generation Inference: huggingface/text-generation-inference
    /// `docs/source/reference/metrics.md`. Its router exports through the Rust `metrics` crate:
    /// counters keep their bare names (no `_total`), every `*_duration` is a histogram in seconds,
    /// and tokens are counted only in per-request histograms (`tgi_request_input_length`,
    /// `tgi_request_generated_tokens`), whose `_sum` is the running total. It has no TTFT histogram.
    /// `tgi_request_validation_duration` (validation and tokenization) is its preprocessing. Its
    /// running requests are the requests of the current batch, so `tgi_batch_current_size` is both
    /// (`meaning(ofFamily:)` says the first, requests running).
    static let tgi: [Entry] = [
        Entry("tgi_batch_current_size", .requestsRunning, server: "TGI"),
        Entry("tgi_queue_size", .requestsWaiting, server: "TGI"),
        Entry("tgi_batch_current_size", .batchSize, server: "TGI"),
        Entry("tgi_request_duration", .e2eSeconds, server: "TGI"),
        Entry("tgi_request_mean_time_per_token_duration", .timePerOutputTokenSeconds, server: "TGI"),
        Entry("tgi_request_queue_duration", .queueSeconds, server: "TGI"),
        Entry("tgi_request_validation_duration", .preprocessSeconds, server: "TGI"),
        Entry("tgi_request_input_length", .promptTokensTotal, server: "TGI", readsHistogramSum: true),
        Entry("tgi_request_generated_tokens", .generationTokensTotal, server: "TGI", readsHistogramSum: true),
        Entry("tgi_request_success", .requestsTotal, server: "TGI"),
    ]

    /// llama.cpp's llama-server (with `--metrics`): ggml-org/llama.cpp `tools/server/README.md`
    /// (GET `/metrics`) and the server's `to_metrics()`. Unlabelled, no histograms.
    /// `kv_cache_usage_ratio` (0 to 1) is in older builds only; in current builds
    /// `prompt_tokens_total` leaves out the prompt tokens reused from the cache, which
    /// `prompt_tokens_cached_total` counts (the hits, in tokens).
    static let llamaCpp: [Entry] = [
        Entry("llamacpp:requests_processing", .requestsRunning, server: "llama.cpp"),
        Entry("llamacpp:requests_deferred", .requestsWaiting, server: "llama.cpp"),
        Entry("llamacpp:kv_cache_usage_ratio", .kvCacheUsage, server: "llama.cpp"),
        Entry("llamacpp:prompt_tokens_total", .promptTokensTotal, server: "llama.cpp"),
        Entry("llamacpp:tokens_predicted_total", .generationTokensTotal, server: "llama.cpp"),
        Entry("llamacpp:prompt_tokens_cached_total", .prefixCacheHitsTotal, server: "llama.cpp"),
    ]

    /// The bundled server, `llmperf serve`: `Sources/InferenceServer/ServerMetrics.swift` and
    /// `SchedulerStatistics.swift`, and the phase histograms `llmperf_request_*_seconds`.
    /// `llmperf_requests_total` counts every HTTP request by `endpoint` and `status`, scrapes of
    /// `/metrics` included, so only answered (200) requests to the generation endpoints count.
    /// Its prefix cache counts prompts: lookups, and lookups that reused a block.
    static let llmperf: [Entry] = [
        Entry("llmperf_requests_running", .requestsRunning, server: "llmperf"),
        Entry("llmperf_requests_waiting", .requestsWaiting, server: "llmperf"),
        Entry("llmperf_batch_occupancy", .batchSize, server: "llmperf"),
        Entry("llmperf_time_to_first_token_seconds", .ttftSeconds, server: "llmperf"),
        Entry("llmperf_e2e_request_latency_seconds", .e2eSeconds, server: "llmperf"),
        Entry("llmperf_time_per_output_token_seconds", .timePerOutputTokenSeconds, server: "llmperf"),
        Entry("llmperf_request_queue_seconds", .queueSeconds, server: "llmperf"),
        Entry("llmperf_request_prefill_seconds", .prefillSeconds, server: "llmperf"),
        Entry("llmperf_request_decode_seconds", .decodeSeconds, server: "llmperf"),
        Entry("llmperf_request_preprocess_seconds", .preprocessSeconds, server: "llmperf"),
        Entry("llmperf_request_postprocess_seconds", .postprocessSeconds, server: "llmperf"),
        Entry("llmperf_prompt_tokens_total", .promptTokensTotal, server: "llmperf"),
        Entry("llmperf_generation_tokens_total", .generationTokensTotal, server: "llmperf"),
        Entry(
            "llmperf_requests_total", .requestsTotal, server: "llmperf", requiredLabels: [MetricLabel("status", "200")],
            excludedLabels: ["/metrics", "/health", "/ready", "/v1/models"].map { MetricLabel("endpoint", $0) }),
        Entry("llmperf_prefix_cache_hits_total", .prefixCacheHitsTotal, server: "llmperf"),
        Entry("llmperf_prefix_cache_lookups_total", .prefixCacheQueriesTotal, server: "llmperf"),
    ]
}
