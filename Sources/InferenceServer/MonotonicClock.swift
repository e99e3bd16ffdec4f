#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CLOCK_MONOTONIC in nanoseconds: the clock a client on the same host reads, so server-side
/// send times in the trace file compare directly with client-side receive times.
public enum MonotonicClock {
    @inline(__always)
    public static func nowNanos() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }

    /// Sleeps until `deadlineNanos` on this clock (returns at once when it has passed).
    public static func sleep(untilNanos deadlineNanos: UInt64) async throws {
        let now = nowNanos()
        guard deadlineNanos > now else { return }
        try await Task.sleep(for: .nanoseconds(Int64(deadlineNanos - now)), tolerance: .zero)
    }
}
