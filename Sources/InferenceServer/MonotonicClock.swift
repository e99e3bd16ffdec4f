import NIOCore
import NIOPosix

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

    /// Sleeps until `deadlineNanos` on this clock (returns at once when it has passed); throws
    /// `CancellationError` when the task is cancelled.
    ///
    /// Uses an NIO event-loop timer (timerfd on Linux, CLOCK_MONOTONIC): `Task.sleep` woke up to
    /// ~4 ms late here, NIO's timer within ~0.1 ms.
    public static func sleep(untilNanos deadlineNanos: UInt64) async throws {
        guard deadlineNanos > nowNanos() else { return }
        try Task.checkCancellation()
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let scheduled = loop.scheduleTask(deadline: .uptimeNanoseconds(deadlineNanos)) {}
        try await withTaskCancellationHandler {
            do {
                try await scheduled.futureResult.get()
            } catch {
                throw CancellationError()
            }
        } onCancel: {
            scheduled.cancel()
        }
    }
}
