import Foundation
import LLMPerfCore

/// Reads a `ClockOffset`: the wall clock between two reads of the run clock, five times, keeping the
/// tightest bracket (a read the scheduler interrupted is wider, and thrown away).
public enum ShardClockReader {
    public static func read(clock: any RunClock, wall: () -> Int64, reads: Int = 5) -> ClockOffset {
        var offsets: [ClockOffset] = []
        for _ in 0..<max(1, reads) {
            let before = clock.nowNanos()
            let wallNanos = wall()
            let after = clock.nowNanos()
            offsets.append(ClockOffset(monotonicBefore: before, wall: wallNanos, monotonicAfter: after))
        }
        return ClockOffset.best(offsets)!
    }

    /// CLOCK_REALTIME in nanoseconds since 1970.
    @Sendable public static func systemWallNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
    }
}
