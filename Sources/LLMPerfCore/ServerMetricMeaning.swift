import Foundation

/// What a server's metric measures, whatever the server calls it (`ServerMetricCatalog` maps the
/// names). Durations are in seconds, token and request counts are cumulative counters, and the KV
/// cache's usage is a fraction in [0, 1].
public enum ServerMetricMeaning: String, Sendable, Equatable, CaseIterable {
    /// Requests in the running batch (gauge).
    case requestsRunning
    /// Requests queued for a place in the batch (gauge).
    case requestsWaiting
    /// The share of the KV cache in use, 0 to 1 (gauge).
    case kvCacheUsage
    /// Sequences in the current batch (gauge).
    case batchSize
    /// Time to first token (histogram, seconds).
    case ttftSeconds
    /// End-to-end request latency (histogram, seconds).
    case e2eSeconds
    /// Time per output token or inter-token latency (histogram, seconds).
    case timePerOutputTokenSeconds
    /// Time queued before admission (histogram, seconds).
    case queueSeconds
    /// Time in prefill (histogram, seconds).
    case prefillSeconds
    /// Time in decode (histogram, seconds).
    case decodeSeconds
    /// Time reading, validating and tokenizing a request before it is queued (histogram, seconds).
    case preprocessSeconds
    /// Time after the last token until the response is done (histogram, seconds).
    case postprocessSeconds
    /// Prompt tokens processed (counter).
    case promptTokensTotal
    /// Output tokens generated (counter).
    case generationTokensTotal
    /// Requests finished successfully (counter).
    case requestsTotal
    /// Prefix cache hits (counter; tokens for vLLM, SGLang and llama.cpp, prompts for `llmperf serve`).
    case prefixCacheHitsTotal
    /// Prefix cache queries (counter, in the same unit as the server's hits).
    case prefixCacheQueriesTotal

    /// The kind of metric that carries it.
    public var kind: MetricType {
        switch self {
        case .requestsRunning, .requestsWaiting, .kvCacheUsage, .batchSize:
            .gauge
        case .ttftSeconds, .e2eSeconds, .timePerOutputTokenSeconds, .queueSeconds, .prefillSeconds, .decodeSeconds,
            .preprocessSeconds, .postprocessSeconds:
            .histogram
        case .promptTokensTotal, .generationTokensTotal, .requestsTotal, .prefixCacheHitsTotal,
            .prefixCacheQueriesTotal:
            .counter
        }
    }

    /// A short name for display.
    public var title: String {
        switch self {
        case .requestsRunning: "Requests running"
        case .requestsWaiting: "Requests waiting"
        case .kvCacheUsage: "KV cache usage"
        case .batchSize: "Batch size"
        case .ttftSeconds: "Time to first token"
        case .e2eSeconds: "End-to-end latency"
        case .timePerOutputTokenSeconds: "Time per output token"
        case .queueSeconds: "Queue time"
        case .prefillSeconds: "Prefill time"
        case .decodeSeconds: "Decode time"
        case .preprocessSeconds: "Preprocessing time"
        case .postprocessSeconds: "Postprocessing time"
        case .promptTokensTotal: "Prompt tokens"
        case .generationTokensTotal: "Generated tokens"
        case .requestsTotal: "Requests finished"
        case .prefixCacheHitsTotal: "Prefix cache hits"
        case .prefixCacheQueriesTotal: "Prefix cache queries"
        }
    }
}
