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
    public var requestsPerSecond: Double
    public var totalOutputTokens: Int
    public var totalInputTokens: Int
    /// How many successful requests' output counts came from the server's `usage`.
    public var outputTokensFromUsage: Int
    public var metrics: [Metric: DistributionSummary]

    public var errorRate: Double { requests == 0 ? 0 : Double(failed) / Double(requests) }

    public init(traces: [RequestTrace]) {
        let measured = traces.filter { !$0.isWarmup }
        let ok = measured.filter(\.succeeded)
        requests = measured.count
        succeeded = ok.count
        failed = measured.count - ok.count
        warmup = traces.count - measured.count
        var errors: [String: Int] = [:]
        for trace in measured {
            if let kind = trace.outcome.failureKind { errors[kind.code, default: 0] += 1 }
        }
        errorsByKind = errors
        let first = measured.map(\.startedAtNanos).min() ?? 0
        let last = measured.map(\.endedAtNanos).max() ?? 0
        windowSeconds = last > first ? Double(last - first) / 1e9 : 0
        totalOutputTokens = ok.reduce(0) { $0 + $1.outputTokens }
        totalInputTokens = ok.reduce(0) { $0 + ($1.inputTokens ?? 0) }
        outputTokensFromUsage = ok.filter { $0.outputTokenSource == .usage }.count
        outputTokensPerSecond = windowSeconds > 0 ? Double(totalOutputTokens) / windowSeconds : 0
        requestsPerSecond = windowSeconds > 0 ? Double(ok.count) / windowSeconds : 0
        var values = [[Double]](repeating: [], count: Metric.allCases.count)
        for index in values.indices { values[index].reserveCapacity(ok.count) }
        for trace in ok {
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
        self.metrics = metrics
    }
}
