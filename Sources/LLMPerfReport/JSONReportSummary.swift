import LLMPerfCore

/// A run's summary as `report --format json` and `SummaryJSON` write it (metrics by name).
struct JSONReportSummary: Encodable {
    var requests: Int
    var succeeded: Int
    var failed: Int
    var warmup: Int
    var errorRate: Double
    var errorsByKind: [String: Int]
    var windowSeconds: Double
    var outputTokensPerSecond: Double
    var inputTokensPerSecond: Double
    var requestsPerSecond: Double
    var totalOutputTokens: Int
    var totalInputTokens: Int
    var outputTokensFromUsage: Int
    var metrics: [String: DistributionSummary]
    /// The prompt tokens the server said were served from its prefix cache.
    var promptCache: PromptCacheJSON?

    struct PromptCacheJSON: Encodable {
        var requests: Int
        var promptTokens: Int
        var cachedTokens: Int
        var share: Double
    }
    /// A replay's schedule lag (`ScheduleLag`), absent for other loads.
    var scheduleLag: ScheduleLag?

    /// `loadDescription`: the run's, which says whether it replayed a trace.
    init(_ s: RunSummary, loadDescription: String = "") {
        scheduleLag = ScheduleLag.of(summary: s, loadDescription: loadDescription)
        requests = s.requests
        succeeded = s.succeeded
        failed = s.failed
        warmup = s.warmup
        errorRate = s.errorRate
        errorsByKind = s.errorsByKind
        windowSeconds = s.windowSeconds
        outputTokensPerSecond = s.outputTokensPerSecond
        inputTokensPerSecond = s.inputTokensPerSecond
        requestsPerSecond = s.requestsPerSecond
        totalOutputTokens = s.totalOutputTokens
        totalInputTokens = s.totalInputTokens
        outputTokensFromUsage = s.outputTokensFromUsage
        metrics = Dictionary(uniqueKeysWithValues: s.metrics.map { ($0.key.rawValue, $0.value) })
        promptCache = s.promptCache.map {
            PromptCacheJSON(
                requests: $0.requests, promptTokens: $0.promptTokens, cachedTokens: $0.cachedTokens, share: $0.share)
        }
    }
}
