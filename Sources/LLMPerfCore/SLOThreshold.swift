import Foundation

/// One `slo:` entry: a bound on a run statistic. Latency and error bounds are upper limits
/// (`ttft.p95: 500ms` passes while p95 ≤ 500 ms); throughput and goodput bounds are lower
/// limits (`output_tokens_per_s: 100` passes while ≥ 100).
public struct SLOThreshold: Sendable, Equatable, Codable {
    /// As written: `ttft.p95`, `error_rate`, `output_tokens_per_s`, `goodput`, …
    public var key: String
    /// For per-request metrics: the metric and the statistic (`p95`, `mean`, …).
    public var metric: Metric?
    public var statistic: String?
    /// Milliseconds for latencies, a fraction (0.01 for 1%) for rates, per second for throughput.
    public var limit: Double
    /// True when the measured value must stay at or below `limit`.
    public var isUpperBound: Bool

    public init(key: String, metric: Metric?, statistic: String?, limit: Double, isUpperBound: Bool) {
        self.key = key
        self.metric = metric
        self.statistic = statistic
        self.limit = limit
        self.isUpperBound = isUpperBound
    }
}
