/// What each shard of a merged run did: its requests, its throughput over its own window, and its
/// clocks (when its origin fell after the first shard's, how far its wall clock moved during the run,
/// how tight the clock reads were). Counted in one pass over the run's requests, warmup left out.
public struct ShardThroughput: Sendable, Equatable, Codable {
    public var shard: Int
    public var host: String
    public var succeeded: Int
    public var failed: Int
    public var outputTokens: Int
    /// From the shard's first measured request's start to its last one's end, in seconds.
    public var windowSeconds: Double
    public var outputTokensPerSecond: Double
    public var requestsPerSecond: Double
    /// How long after the earliest shard this shard's run origin fell (ms): the shift its times took.
    public var originSkewMilliseconds: Double
    /// Wall clock against monotonic clock, end − start of the shard's run (µs); nil when not read.
    public var clockDriftMicroseconds: Double?
    /// The larger half-width of the shard's two clock reads (µs).
    public var clockUncertaintyMicroseconds: Double
    /// How late the shard's origin fell after `--start-at` (ms); nil without one.
    public var lateByMilliseconds: Double?

    /// Adds up a merged run's requests by shard.
    public struct Tally: Sendable {
        struct Counts {
            var succeeded = 0
            var failed = 0
            var outputTokens = 0
            var first = UInt64.max
            var last = UInt64(0)
        }

        var counts: [Int: Counts] = [:]

        public init() {}

        public mutating func add(_ trace: RequestTrace) {
            guard let shard = trace.shard, !trace.isWarmup else { return }
            var entry = counts[shard] ?? Counts()
            if trace.succeeded {
                entry.succeeded += 1
                entry.outputTokens += trace.outputTokens
            } else {
                entry.failed += 1
            }
            entry.first = min(entry.first, trace.startedAtNanos)
            entry.last = max(entry.last, trace.endedAtNanos)
            counts[shard] = entry
        }

        /// One row per shard of `run` (`RunInfo.mergedFrom`), by index; empty for a run not merged.
        public func rows(for run: RunInfo) -> [ShardThroughput] {
            (run.mergedFrom ?? []).map { shard in
                let index = shard.stamp.shard.index
                let entry = counts[index] ?? Counts()
                let window = entry.last > entry.first ? Double(entry.last - entry.first) / 1e9 : 0
                let uncertainty = max(
                    shard.stamp.startClock.uncertaintyNanos, shard.stamp.endClock?.uncertaintyNanos ?? 0)
                return ShardThroughput(
                    shard: index, host: shard.host, succeeded: entry.succeeded, failed: entry.failed,
                    outputTokens: entry.outputTokens, windowSeconds: window,
                    outputTokensPerSecond: window > 0 ? Double(entry.outputTokens) / window : 0,
                    requestsPerSecond: window > 0 ? Double(entry.succeeded) / window : 0,
                    originSkewMilliseconds: Double(shard.shiftNanos) / 1e6,
                    clockDriftMicroseconds: shard.stamp.clockDriftNanos.map { Double($0) / 1e3 },
                    clockUncertaintyMicroseconds: Double(uncertainty) / 1e3,
                    lateByMilliseconds: shard.stamp.lateByNanos.map { Double($0) / 1e6 })
            }
        }
    }

    /// The rows of `run` from its requests (in memory).
    public static func of(_ run: RunInfo, traces: [RequestTrace]) -> [ShardThroughput] {
        guard run.mergedFrom != nil else { return [] }
        var tally = Tally()
        for trace in traces { tally.add(trace) }
        return tally.rows(for: run)
    }
}
