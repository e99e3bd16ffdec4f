import Foundation

/// The statistics of one run, derived from its request traces. Warmup requests are left out
/// of everything; latency metrics use successful requests only; the error rate counts every
/// measured request.
public struct RunSummary: Sendable, Equatable, Codable {
    /// Requests that count (warmup excluded).
    public var requests: Int
    public var succeeded: Int
    public var failed: Int
    public var warmup: Int
    /// Failed requests by `FailureKind.code`, e.g. `["http_500": 3, "timeout_idle": 1]`.
    public var errorsByKind: [String: Int]
    /// From the first measured request's start to the last one's end, in seconds.
    public var windowSeconds: Double
    public var outputTokensPerSecond: Double
    /// Input (prompt) tokens of successful requests, as the server's usage counted them, per
    /// second of the window: the throughput of an embeddings endpoint.
    public var inputTokensPerSecond: Double
    public var requestsPerSecond: Double
    public var totalOutputTokens: Int
    public var totalInputTokens: Int
    /// How many successful requests' output counts came from the server's `usage`.
    public var outputTokensFromUsage: Int
    /// How many came from the run's tokenizer over the answer (no usage; `workload.tokenizer`); nil
    /// when none did.
    public var outputTokensFromTokenizer: Int?
    public var metrics: [Metric: DistributionSummary]
    /// The share of prompt tokens the server said it served from its prefix cache (nil: no
    /// response said).
    public var promptCache: PromptCacheShare?

    public var errorRate: Double { requests == 0 ? 0 : Double(failed) / Double(requests) }

    /// The successful requests took input and generated no output (an embeddings endpoint): the
    /// run's throughput is its input tokens per second, its latency `total`.
    public var generatedNothing: Bool { totalOutputTokens == 0 && totalInputTokens > 0 }

    /// From an array of traces: the counts in one sweep, each metric's sample sorted.
    public init(traces: [RequestTrace]) {
        var tally = RunTally()
        for trace in traces { tally.add(trace) }
        let ok = tally.succeeded
        var values = [[Double]](repeating: [], count: Metric.allCases.count)
        for index in values.indices { values[index].reserveCapacity(ok) }
        for trace in traces where !trace.isWarmup && trace.succeeded {
            for (index, metric) in Metric.allCases.enumerated() {
                if metric == .itl {
                    Metric.appendInterTokenLatencies(of: trace, to: &values[index])
                } else if let value = metric.value(of: trace) {
                    values[index].append(value)
                }
            }
        }
        var metrics: [Metric: DistributionSummary] = [:]
        for (index, metric) in Metric.allCases.enumerated() where !values[index].isEmpty {
            values[index].sort()
            metrics[metric] = DistributionSummary(sorted: values[index])
        }
        self.init(tally: tally, metrics: metrics)
    }

    /// Without holding the traces: `scan` calls `visit` with every trace of the run (warmup
    /// included, in any order) and is called several times (see `StreamedDistributions`),
    /// e.g. each time reading the run's rows from the database. Equal, bit for bit, to
    /// `init(traces:)` of the same traces; the memory does not grow with the run.
    public init(scan: (_ visit: (RequestTrace) -> Void) throws -> Void) rethrows {
        var tally = RunTally()
        var first = true
        let metrics = Metric.allCases
        let summaries = try StreamedDistributions.summarize(seriesCount: metrics.count) { sample in
            try withoutActuallyEscaping(sample) { sample in
                try scan { trace in
                    if first { tally.add(trace) }
                    guard !trace.isWarmup, trace.succeeded else { return }
                    for (index, metric) in metrics.enumerated() {
                        metric.forEachSample(of: trace) { sample(index, $0) }
                    }
                }
            }
            first = false
        }
        var byMetric: [Metric: DistributionSummary] = [:]
        for (index, metric) in metrics.enumerated() {
            if let summary = summaries[index] { byMetric[metric] = summary }
        }
        self.init(tally: tally, metrics: byMetric)
    }

    public init(tally: RunTally, metrics: [Metric: DistributionSummary]) {
        requests = tally.requests
        succeeded = tally.succeeded
        failed = tally.requests - tally.succeeded
        warmup = tally.warmup
        errorsByKind = tally.errorsByKind
        let first = tally.firstStartNanos ?? 0
        let last = tally.lastEndNanos ?? 0
        windowSeconds = last > first ? Double(last - first) / 1e9 : 0
        totalOutputTokens = tally.outputTokens
        totalInputTokens = tally.inputTokens
        outputTokensFromUsage = tally.outputTokensFromUsage
        outputTokensFromTokenizer = tally.outputTokensFromTokenizer > 0 ? tally.outputTokensFromTokenizer : nil
        outputTokensPerSecond = windowSeconds > 0 ? Double(totalOutputTokens) / windowSeconds : 0
        inputTokensPerSecond = windowSeconds > 0 ? Double(totalInputTokens) / windowSeconds : 0
        requestsPerSecond = windowSeconds > 0 ? Double(succeeded) / windowSeconds : 0
        self.metrics = metrics
        promptCache = tally.promptCache.requests > 0 ? tally.promptCache : nil
    }
}

/// The counts of a run, kept as traces arrive (constant memory): everything in `RunSummary`
/// except the metric distributions.
public struct RunTally: Sendable, Equatable {
    /// Measured requests (warmup excluded), and how many of them succeeded.
    public var requests = 0
    public var succeeded = 0
    public var warmup = 0
    public var errorsByKind: [String: Int] = [:]
    public var firstStartNanos: UInt64?
    public var lastEndNanos: UInt64?
    /// Of successful measured requests.
    public var outputTokens = 0
    public var inputTokens = 0
    public var outputTokensFromUsage = 0
    public var outputTokensFromTokenizer = 0
    public var promptCache = PromptCacheShare()

    public init() {}

    public mutating func add(_ trace: RequestTrace) {
        guard !trace.isWarmup else {
            warmup += 1
            return
        }
        requests += 1
        if let kind = trace.outcome.failureKind { errorsByKind[kind.code, default: 0] += 1 }
        firstStartNanos = Swift.min(firstStartNanos ?? .max, trace.startedAtNanos)
        lastEndNanos = Swift.max(lastEndNanos ?? 0, trace.endedAtNanos)
        guard trace.succeeded else { return }
        succeeded += 1
        outputTokens += trace.outputTokens
        inputTokens += trace.inputTokens ?? 0
        switch trace.outputTokenSource {
        case .usage: outputTokensFromUsage += 1
        case .tokenizer: outputTokensFromTokenizer += 1
        case .chunks: break
        }
        promptCache.add(trace)
    }
}
