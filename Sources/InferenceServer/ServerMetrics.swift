import NIOConcurrencyHelpers

/// Counters, gauges and histograms behind `GET /metrics` (Prometheus text format).
final class ServerMetrics: Sendable {
    struct RequestKey: Hashable, Sendable {
        var endpoint: String
        var status: Int
    }

    private struct State: Sendable {
        var requests: [RequestKey: UInt64] = [:]
        var promptTokens: UInt64 = 0
        var generationTokens: UInt64 = 0
        var running = 0
        var ttft = PrometheusHistogram(
            name: "llmperf_time_to_first_token_seconds",
            help: "Time from request arrival to the write of the first content token.",
            bounds: ServerMetrics.latencyBounds)
        var perToken = PrometheusHistogram(
            name: "llmperf_time_per_output_token_seconds",
            help: "Time between writes of consecutive content tokens, per token (tokens sharing a write count 0).",
            bounds: [
                0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1,
                2.5,
            ])
        var e2e = PrometheusHistogram(
            name: "llmperf_e2e_request_latency_seconds",
            help: "Time from request arrival to the last byte of the response body.",
            bounds: ServerMetrics.latencyBounds + [120, 300])
        // Each phase of a generated request (`ServerPhases`), observed when its final event is rendered.
        var preprocess = PrometheusHistogram(
            name: "llmperf_request_preprocess_seconds",
            help: "Reading the request, applying the chat template and tokenizing, per request.",
            bounds: ServerMetrics.phaseBounds)
        var queue = PrometheusHistogram(
            name: "llmperf_request_queue_seconds",
            help: "Waiting for a place in the running batch, per request.", bounds: ServerMetrics.phaseBounds)
        var prefill = PrometheusHistogram(
            name: "llmperf_request_prefill_seconds",
            help: "From admission to the first token, per request.", bounds: ServerMetrics.phaseBounds)
        var decode = PrometheusHistogram(
            name: "llmperf_request_decode_seconds",
            help: "From the first token to the last, per request.", bounds: ServerMetrics.phaseBounds)
        var postprocess = PrometheusHistogram(
            name: "llmperf_request_postprocess_seconds",
            help: "From the last token to the final event, per request.", bounds: ServerMetrics.phaseBounds)
    }

    /// Buckets for TTFT and end-to-end: a quantile read from a histogram is interpolated within its bucket, so
    /// the buckets are narrow where LLM latencies lie (a fifth to a quarter of their bound up to a second), for a
    /// scrape's quantiles to land within a few percent of what the client measures.
    static let latencyBounds: [Double] = [
        0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.008, 0.01, 0.0125, 0.015, 0.0175, 0.02, 0.025, 0.03, 0.035, 0.04,
        0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.125, 0.15, 0.175, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1,
        1.25, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 20, 40, 80,
    ]

    static let phaseBounds: [Double] = [
        0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80,
    ]

    private let state = NIOLockedValueBox(State())

    func countRequest(endpoint: String, status: Int) {
        state.withLockedValue { $0.requests[RequestKey(endpoint: endpoint, status: status), default: 0] += 1 }
    }

    func generationStarted(promptTokens: Int) {
        state.withLockedValue {
            $0.running += 1
            $0.promptTokens += UInt64(promptTokens)
        }
    }

    func generationEnded(arrivalNanos: UInt64, endNanos: UInt64) {
        state.withLockedValue {
            $0.running -= 1
            $0.e2e.observe(Self.seconds(endNanos &- arrivalNanos))
        }
    }

    /// A generated request's phases, when its final event is rendered.
    func phasesEnded(_ phases: ServerPhases) {
        state.withLockedValue {
            $0.preprocess.observe(Self.seconds(phases.preprocessNanos))
            $0.queue.observe(Self.seconds(phases.queueNanos))
            $0.prefill.observe(Self.seconds(phases.prefillNanos))
            $0.decode.observe(Self.seconds(phases.decodeNanos))
            $0.postprocess.observe(Self.seconds(phases.postprocessNanos))
        }
    }

    /// One write of `tokens` content tokens; `gapNanos` since the previous content write, nil for the first.
    func tokensWritten(_ tokens: Int, gapNanos: UInt64?, ttftNanos: UInt64?) {
        state.withLockedValue {
            $0.generationTokens += UInt64(tokens)
            if let ttftNanos {
                $0.ttft.observe(Self.seconds(ttftNanos))
                $0.perToken.observe(0, weight: UInt64(max(0, tokens - 1)))
            } else if let gapNanos, tokens > 0 {
                $0.perToken.observe(Self.seconds(gapNanos) / Double(tokens), weight: UInt64(tokens))
            }
        }
    }

    /// - Parameter engineMetrics: the engine's own lines (`ServingEngine.metricsText`), appended as they are.
    func render(engineLoad: SchedulerLoad?, engineMetrics: String = "") -> String {
        let snapshot = state.withLockedValue { $0 }
        var out = ""
        out += "# HELP llmperf_requests_total HTTP requests answered, by endpoint and status code.\n"
        out += "# TYPE llmperf_requests_total counter\n"
        let keys = snapshot.requests.keys.sorted { ($0.endpoint, $0.status) < ($1.endpoint, $1.status) }
        for key in keys {
            out +=
                "llmperf_requests_total{endpoint=\"\(PrometheusText.labelValue(key.endpoint))\",status=\"\(key.status)\"} "
                + "\(snapshot.requests[key]!)\n"
        }
        out += "# HELP llmperf_prompt_tokens_total Prompt tokens of requests admitted to generation.\n"
        out += "# TYPE llmperf_prompt_tokens_total counter\n"
        out += "llmperf_prompt_tokens_total \(snapshot.promptTokens)\n"
        out += "# HELP llmperf_generation_tokens_total Completion tokens sent.\n"
        out += "# TYPE llmperf_generation_tokens_total counter\n"
        out += "llmperf_generation_tokens_total \(snapshot.generationTokens)\n"
        out += "# HELP llmperf_requests_running Requests being generated (in flight).\n"
        out += "# TYPE llmperf_requests_running gauge\n"
        out += "llmperf_requests_running \(snapshot.running)\n"
        out += "# HELP llmperf_requests_waiting Requests queued for a slot in the inference loop.\n"
        out += "# TYPE llmperf_requests_waiting gauge\n"
        out += "llmperf_requests_waiting \(engineLoad?.waiting ?? 0)\n"
        snapshot.ttft.render(into: &out)
        snapshot.perToken.render(into: &out)
        snapshot.e2e.render(into: &out)
        for phase in [snapshot.preprocess, snapshot.queue, snapshot.prefill, snapshot.decode, snapshot.postprocess] {
            phase.render(into: &out)
        }
        out += engineMetrics
        if !out.hasSuffix("\n") { out += "\n" }
        return out
    }

    private static func seconds(_ nanos: UInt64) -> Double { Double(nanos) / 1e9 }
}
