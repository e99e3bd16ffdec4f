/// The wall clock against a process's monotonic clock at one moment: `offsetNanos` = wall-clock
/// nanoseconds since 1970 − CLOCK_MONOTONIC nanoseconds, read between two monotonic reads;
/// `uncertaintyNanos` is half the time between them (the read is somewhere in that bracket).
public struct ClockOffset: Sendable, Equatable, Codable {
    public var offsetNanos: Int64
    public var uncertaintyNanos: Int64

    public init(offsetNanos: Int64, uncertaintyNanos: Int64) {
        self.offsetNanos = offsetNanos
        self.uncertaintyNanos = uncertaintyNanos
    }

    /// The offset from one bracketed read: monotonic `before`, wall `wall`, monotonic `after`.
    public init(monotonicBefore before: UInt64, wall: Int64, monotonicAfter after: UInt64) {
        let span = after >= before ? after - before : 0
        let middle = before + span / 2
        self.init(offsetNanos: wall &- Int64(clamping: middle), uncertaintyNanos: Int64(clamping: (span + 1) / 2))
    }

    /// The tightest of several reads (the smallest bracket).
    public static func best(_ reads: [ClockOffset]) -> ClockOffset? {
        reads.min { $0.uncertaintyNanos < $1.uncertaintyNanos }
    }
}

/// What a shard's run records so that its requests can be merged with the other shards' onto one
/// time axis (`llmperf merge`): which shard it was, its clock at the start and at the end of the
/// run, where its run origin fell on the wall clock, and the start time it was lined up to.
public struct ShardStamp: Sendable, Equatable, Codable {
    public var shard: ShardSpec
    /// The clock offset read just before the run's origin was taken.
    public var startClock: ClockOffset
    /// The clock offset read when the run ended (nil while it runs): its difference from `startClock` is
    /// how far the wall clock moved against the monotonic one during the run (NTP slewing or a step).
    public var endClock: ClockOffset?
    /// The run origin (every request time of the run counts from it) on the wall clock, ns since 1970:
    /// the monotonic origin + `startClock.offsetNanos`.
    public var originWallNanos: Int64
    /// `--start-at`, ns since 1970, when the shard waited for one.
    public var startAtWallNanos: Int64?

    public init(
        shard: ShardSpec, startClock: ClockOffset, endClock: ClockOffset? = nil, originWallNanos: Int64,
        startAtWallNanos: Int64? = nil
    ) {
        self.shard = shard
        self.startClock = startClock
        self.endClock = endClock
        self.originWallNanos = originWallNanos
        self.startAtWallNanos = startAtWallNanos
    }

    /// How far the wall clock moved against the monotonic clock from the run's start to its end (ns);
    /// nil before the end was read.
    public var clockDriftNanos: Int64? { endClock.map { $0.offsetNanos &- startClock.offsetNanos } }

    /// How late the run's origin fell after `--start-at` (ns; negative: early), nil without one.
    public var lateByNanos: Int64? { startAtWallNanos.map { originWallNanos &- $0 } }
}

/// One shard of a merged run (`llmperf merge`): its stamp, where its run came from, and how far its
/// request times were moved onto the merged run's axis.
public struct MergedShard: Sendable, Equatable, Codable {
    public var stamp: ShardStamp
    public var sourceRunID: String
    /// The file (or database) the shard's run was read from.
    public var source: String
    public var host: String
    public var status: RunStatus
    /// Nanoseconds added to the shard's request times: its origin − the earliest shard's origin.
    public var shiftNanos: Int64

    public init(
        stamp: ShardStamp, sourceRunID: String, source: String, host: String, status: RunStatus, shiftNanos: Int64
    ) {
        self.stamp = stamp
        self.sourceRunID = sourceRunID
        self.source = source
        self.host = host
        self.status = status
        self.shiftNanos = shiftNanos
    }
}
