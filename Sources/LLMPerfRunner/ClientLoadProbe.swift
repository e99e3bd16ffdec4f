import Foundation
import LLMPerfCore

/// Measures `ClientLoad` while a run's requests go out: this process's CPU time over the span, and the
/// wake-up lateness of a thread of its own that sleeps 5 ms at a time. The thread does nothing else, so
/// its lateness is the time the operating system kept it waiting: on a client short of CPU (a busy
/// machine, a container's small share, a stopped process) every thread of the client waits as long, the
/// one that sends and reads the requests included.
final class ClientLoadProbe: @unchecked Sendable {
    static let periodNanos: UInt64 = 5_000_000

    private let lock = NSLock()
    private var lateness = LiveHistogram()
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)
    private var cpuBefore = 0.0
    private var wallBefore: UInt64 = 0

    /// Starts measuring.
    func start() {
        cpuBefore = ProcessResources.cpuSeconds()
        wallBefore = Self.now()
        let thread = Thread { [self] in
            var request = timespec(tv_sec: 0, tv_nsec: Int(Self.periodNanos))
            while true {
                let before = Self.now()
                var remaining = timespec()
                nanosleep(&request, &remaining)
                let late = Self.now() &- before
                lock.lock()
                let stop = stopping
                if late >= Self.periodNanos { lateness.add(Double(late - Self.periodNanos) / 1e6) }
                lock.unlock()
                if stop { break }
                request = timespec(tv_sec: 0, tv_nsec: Int(Self.periodNanos))
            }
            finished.signal()
        }
        thread.name = "llmperf-lag-probe"
        thread.start()
    }

    /// Stops the probe (waits at most one period for it) and returns what it measured.
    func stop() -> ClientLoad {
        let cpu = ProcessResources.cpuSeconds() - cpuBefore
        let wall = Double(Self.now() &- wallBefore) / 1e9
        lock.lock()
        stopping = true
        lock.unlock()
        finished.wait()
        lock.lock()
        defer { lock.unlock() }
        return ClientLoad(
            cpuSeconds: max(0, cpu), wallSeconds: wall, lagP50Milliseconds: lateness.quantile(0.5),
            lagP99Milliseconds: lateness.quantile(0.99))
    }

    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}
