/// `/metrics` answers of each server, trimmed to a few families (and histograms to a few buckets),
/// written from each server's published source and documentation; the tests parse them exactly.
enum PrometheusFixtures {
    static let model = "Llama-3.1-8B"

    /// vLLM's V1 engine, as its `PrometheusStatLogger` declares the families
    /// (vllm-project/vllm `vllm/v1/metrics/loggers.py`) and its design doc shows the output
    /// (`docs/design/metrics.md`): prometheus_client text, every series labelled with
    /// `model_name` and `engine`, counters declared with `_total`, values written as floats, a
    /// histogram's `le` before the other labels, `_created` gauges beside the counters.
    static let vllm = """
        # HELP vllm:num_requests_running Number of requests in model execution batches.
        # TYPE vllm:num_requests_running gauge
        vllm:num_requests_running{engine="0",model_name="Llama-3.1-8B"} 8.0
        # HELP vllm:num_requests_waiting Number of requests waiting to be processed.
        # TYPE vllm:num_requests_waiting gauge
        vllm:num_requests_waiting{engine="0",model_name="Llama-3.1-8B"} 2.0
        # HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
        # TYPE vllm:kv_cache_usage_perc gauge
        vllm:kv_cache_usage_perc{engine="0",model_name="Llama-3.1-8B"} 0.4375
        # HELP vllm:generation_tokens_total Number of generation tokens processed.
        # TYPE vllm:generation_tokens_total counter
        vllm:generation_tokens_total{engine="0",model_name="Llama-3.1-8B"} 27453.0
        # HELP vllm:generation_tokens_created Number of generation tokens processed.
        # TYPE vllm:generation_tokens_created gauge
        vllm:generation_tokens_created{engine="0",model_name="Llama-3.1-8B"} 1.7254184e+09
        # HELP vllm:request_success_total Count of successfully processed requests.
        # TYPE vllm:request_success_total counter
        vllm:request_success_total{engine="0",finished_reason="stop",model_name="Llama-3.1-8B"} 101.0
        vllm:request_success_total{engine="0",finished_reason="length",model_name="Llama-3.1-8B"} 19.0
        vllm:request_success_total{engine="0",finished_reason="abort",model_name="Llama-3.1-8B"} 0.0
        # HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
        # TYPE vllm:time_to_first_token_seconds histogram
        vllm:time_to_first_token_seconds_sum{engine="0",model_name="Llama-3.1-8B"} 9.25
        vllm:time_to_first_token_seconds_bucket{le="0.04",engine="0",model_name="Llama-3.1-8B"} 12.0
        vllm:time_to_first_token_seconds_bucket{le="0.06",engine="0",model_name="Llama-3.1-8B"} 40.0
        vllm:time_to_first_token_seconds_bucket{le="0.1",engine="0",model_name="Llama-3.1-8B"} 110.0
        vllm:time_to_first_token_seconds_bucket{le="0.25",engine="0",model_name="Llama-3.1-8B"} 119.0
        vllm:time_to_first_token_seconds_bucket{le="+Inf",engine="0",model_name="Llama-3.1-8B"} 120.0
        vllm:time_to_first_token_seconds_count{engine="0",model_name="Llama-3.1-8B"} 120.0

        """

    /// SGLang, as `SchedulerMetricsCollector` and `TokenizerMetricsCollector` declare the families
    /// (sgl-project/sglang `python/sglang/srt/metrics/collector.py`): prometheus_client text,
    /// labelled by `model_name`; `token_usage` and `cache_hit_rate` are gauges of shares.
    static let sglang = """
        # HELP sglang:num_running_reqs The number of running requests.
        # TYPE sglang:num_running_reqs gauge
        sglang:num_running_reqs{model_name="Qwen2.5-7B"} 14.0
        # HELP sglang:num_queue_reqs The number of requests in the waiting queue.
        # TYPE sglang:num_queue_reqs gauge
        sglang:num_queue_reqs{model_name="Qwen2.5-7B"} 0.0
        # HELP sglang:token_usage The token usage.
        # TYPE sglang:token_usage gauge
        sglang:token_usage{model_name="Qwen2.5-7B"} 0.21
        # HELP sglang:cache_hit_rate The prefix cache hit rate.
        # TYPE sglang:cache_hit_rate gauge
        sglang:cache_hit_rate{model_name="Qwen2.5-7B"} 0.5
        # HELP sglang:prompt_tokens_total Number of prefill tokens processed.
        # TYPE sglang:prompt_tokens_total counter
        sglang:prompt_tokens_total{model_name="Qwen2.5-7B"} 90210.0
        # HELP sglang:generation_tokens_total Number of generation tokens processed.
        # TYPE sglang:generation_tokens_total counter
        sglang:generation_tokens_total{model_name="Qwen2.5-7B"} 41000.0
        # HELP sglang:num_requests_total Number of requests processed.
        # TYPE sglang:num_requests_total counter
        sglang:num_requests_total{model_name="Qwen2.5-7B"} 320.0
        # HELP sglang:inter_token_latency_seconds Histogram of inter-token latency in seconds.
        # TYPE sglang:inter_token_latency_seconds histogram
        sglang:inter_token_latency_seconds_bucket{le="0.01",model_name="Qwen2.5-7B"} 30000.0
        sglang:inter_token_latency_seconds_bucket{le="0.015",model_name="Qwen2.5-7B"} 40000.0
        sglang:inter_token_latency_seconds_bucket{le="+Inf",model_name="Qwen2.5-7B"} 40680.0
        sglang:inter_token_latency_seconds_count{model_name="Qwen2.5-7B"} 40680.0
        sglang:inter_token_latency_seconds_sum{model_name="Qwen2.5-7B"} 366.12

        """

    /// Text Generation Inference (huggingface/text-generation-inference
    /// `docs/source/reference/metrics.md`), as its router's Rust exporter writes: TYPE lines only,
    /// counters without `_total`, integers without a fraction, duration buckets in seconds (a
    /// geometric series ×1.5, trimmed here), batch metrics labelled by `method`.
    static let tgi = """
        # TYPE tgi_request_success counter
        tgi_request_success 42

        # TYPE tgi_batch_inference_count counter
        tgi_batch_inference_count{method="prefill"} 40
        tgi_batch_inference_count{method="decode"} 1800

        # TYPE tgi_queue_size gauge
        tgi_queue_size 3

        # TYPE tgi_batch_current_size gauge
        tgi_batch_current_size 8

        # TYPE tgi_request_duration histogram
        tgi_request_duration_bucket{le="0.5"} 0
        tgi_request_duration_bucket{le="0.75"} 6
        tgi_request_duration_bucket{le="1.125"} 30
        tgi_request_duration_bucket{le="1.6875"} 41
        tgi_request_duration_bucket{le="+Inf"} 42
        tgi_request_duration_sum 39.375
        tgi_request_duration_count 42

        # TYPE tgi_request_generated_tokens histogram
        tgi_request_generated_tokens_bucket{le="64"} 10
        tgi_request_generated_tokens_bucket{le="128"} 42
        tgi_request_generated_tokens_bucket{le="+Inf"} 42
        tgi_request_generated_tokens_sum 4032
        tgi_request_generated_tokens_count 42

        """

    /// llama.cpp's llama-server with `--metrics` (ggml-org/llama.cpp `tools/server/README.md`, GET
    /// `/metrics`, and the server's `to_metrics()`): one HELP and TYPE per metric, no labels, values
    /// written by a C++ stream (six significant digits, so large counts in exponent form).
    static let llamaCpp = """
        # HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.
        # TYPE llamacpp:prompt_tokens_total counter
        llamacpp:prompt_tokens_total 1.23457e+06
        # HELP llamacpp:prompt_seconds_total Prompt process time
        # TYPE llamacpp:prompt_seconds_total counter
        llamacpp:prompt_seconds_total 412.5
        # HELP llamacpp:tokens_predicted_total Number of generation tokens processed.
        # TYPE llamacpp:tokens_predicted_total counter
        llamacpp:tokens_predicted_total 98304
        # HELP llamacpp:kv_cache_usage_ratio KV-cache usage. 1 means 100 percent usage.
        # TYPE llamacpp:kv_cache_usage_ratio gauge
        llamacpp:kv_cache_usage_ratio 0.125
        # HELP llamacpp:requests_processing Number of request processing.
        # TYPE llamacpp:requests_processing gauge
        llamacpp:requests_processing 4
        # HELP llamacpp:requests_deferred Number of request deferred.
        # TYPE llamacpp:requests_deferred gauge
        llamacpp:requests_deferred 1

        """

    /// `llmperf serve` (`Sources/InferenceServer/ServerMetrics.swift`, `PrometheusHistogram.swift`):
    /// requests by endpoint and status, token counters, load gauges, then the histograms (bounds
    /// as Swift prints doubles, trimmed).
    static let llmperf = """
        # HELP llmperf_requests_total HTTP requests answered, by endpoint and status code.
        # TYPE llmperf_requests_total counter
        llmperf_requests_total{endpoint="/metrics",status="200"} 12
        llmperf_requests_total{endpoint="/v1/chat/completions",status="200"} 64
        llmperf_requests_total{endpoint="/v1/chat/completions",status="400"} 1
        # HELP llmperf_prompt_tokens_total Prompt tokens of requests admitted to generation.
        # TYPE llmperf_prompt_tokens_total counter
        llmperf_prompt_tokens_total 8192
        # HELP llmperf_generation_tokens_total Completion tokens sent.
        # TYPE llmperf_generation_tokens_total counter
        llmperf_generation_tokens_total 4096
        # HELP llmperf_requests_running Requests being generated (in flight).
        # TYPE llmperf_requests_running gauge
        llmperf_requests_running 4
        # HELP llmperf_requests_waiting Requests queued for a slot in the inference loop.
        # TYPE llmperf_requests_waiting gauge
        llmperf_requests_waiting 0
        # HELP llmperf_time_to_first_token_seconds Time from request arrival to the write of the first content token.
        # TYPE llmperf_time_to_first_token_seconds histogram
        llmperf_time_to_first_token_seconds_bucket{le="0.001"} 0
        llmperf_time_to_first_token_seconds_bucket{le="0.005"} 16
        llmperf_time_to_first_token_seconds_bucket{le="0.01"} 48
        llmperf_time_to_first_token_seconds_bucket{le="+Inf"} 64
        llmperf_time_to_first_token_seconds_sum 0.512
        llmperf_time_to_first_token_seconds_count 64

        """
}
