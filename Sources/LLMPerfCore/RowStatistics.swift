import Foundation

/// One run's side of a row.
public struct RowStatistics: Sendable, Equatable, Codable {
    /// Values behind the statistics: samples (requests, or gaps for `itl`), buckets for
    /// throughput, measured requests for rates.
    public var count: Int
    /// Values the significance test used: requests (one mean gap per request for `itl`),
    /// buckets for throughput, measured requests for rates.
    public var tested: Int
    /// The run-level value: throughput over the whole window, or the rate. Nil for
    /// per-request metrics.
    public var value: Double?
    /// Of the per-request values (all gaps for `itl`, as in `RunSummary`), or of the buckets for
    /// throughput; for rates only `mean` (= the rate) is set.
    public var mean: Double?
    public var p50: Double?
    public var p90: Double?
    public var p95: Double?
    public var p99: Double?

    public init(
        count: Int, tested: Int, value: Double? = nil, mean: Double? = nil, p50: Double? = nil, p90: Double? = nil,
        p95: Double? = nil, p99: Double? = nil
    ) {
        self.count = count
        self.tested = tested
        self.value = value
        self.mean = mean
        self.p50 = p50
        self.p90 = p90
        self.p95 = p95
        self.p99 = p99
    }

    init(summary: DistributionSummary?, count: Int, tested: Int, value: Double? = nil) {
        self.init(
            count: count, tested: tested, value: value, mean: summary?.mean, p50: summary?.p50, p90: summary?.p90,
            p95: summary?.p95, p99: summary?.p99)
    }
}
