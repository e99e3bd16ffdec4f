import Foundation

/// Runs a load through a `Transport`, handing each request's trace to the caller as it ends.
///
/// - Closed loop (`.closed(concurrency: N)`): N workers, each sending its next request when
///   its previous one ends. The `warmup` requests run first (flagged `isWarmup`), then the
///   measured ones.
/// - Open loop (`.open(rate, arrival, maxConcurrency)`): requests go out at the times of a
///   seeded `ArrivalSchedule` whatever is in flight; `scheduledAtNanos` is recorded, and with
///   `maxConcurrency` a request waits for a free slot (the wait shows as started − scheduled).
///   The first `warmup` scheduled requests are flagged `isWarmup`.
///
/// It stops after `requests` measured requests or once `duration` has passed since the first
/// measured request was sent (requests already in flight then finish). Prompts cycle through
/// the transport's prompts by request index. `stop()` (or cancelling the task that awaits
/// `run`) sends nothing more, gives requests in flight `cancelGrace` to finish, then cancels
/// them (they complete as `cancelled`, keeping what they received). A driver runs once. All
/// time is read from `clock`.
///
/// The driver keeps no trace once it is handed on: `stream(onTrace:)` is the run whose memory
/// does not grow with its length (`llmperf run` stores and summarises each trace as it comes).
/// `run` collects them all, for short runs that want the array (calibration, tests).
public final class LoadDriver: Sendable {
    public let transport: any Transport
    public let load: LoadSpec
    public let clock: any RunClock
    public let cancelGrace: Duration
    private let events: AsyncStream<DriverEvent>
    private let eventSink: AsyncStream<DriverEvent>.Continuation
    private let lifecycle = DriverLifecycle()

    public init(
        transport: any Transport, load: LoadSpec, clock: any RunClock = MonotonicRunClock(),
        cancelGrace: Duration = .seconds(2)
    ) {
        self.transport = transport
        self.load = load
        self.clock = clock
        self.cancelGrace = cancelGrace
        (events, eventSink) = AsyncStream.makeStream(of: DriverEvent.self)
    }

    /// Stops sending; requests in flight get `cancelGrace`, then are cancelled. Any thread.
    public func stop() {
        lifecycle.requestStop()
        eventSink.yield(.stop)
    }

    /// Runs the load keeping nothing: `onTrace` gets each finished trace as it arrives (off the
    /// network thread, one at a time) and is the only place it goes. Returns how many requests
    /// finished (warmup included).
    @discardableResult
    public func stream(onTrace: @escaping @Sendable (RequestTrace) -> Void) async -> Int {
        guard lifecycle.begin() else { return 0 }
        let coordinator = Task { await coordinate(onTrace: onTrace) }
        return await withTaskCancellationHandler {
            await coordinator.value
        } onCancel: {
            stop()
        }
    }

    /// Runs the load and returns every trace, ordered by index (`onTrace` as in `stream`). The
    /// array grows by about 2 KB a request: for short runs only.
    public func run(onTrace: @escaping @Sendable (RequestTrace) -> Void = { _ in }) async -> [RequestTrace] {
        let collected = TraceCollector()
        await stream { trace in
            collected.append(trace)
            onTrace(trace)
        }
        return collected.sorted()
    }

    // MARK: coordination (one task owns all run state)

    private func coordinate(onTrace: @Sendable (RequestTrace) -> Void) async -> Int {
        var state = DriverState(load: load)
        guard transport.promptCount > 0, !lifecycle.stopRequested else {
            eventSink.finish()
            return 0
        }
        let runStart = clock.nowNanos()
        var ticker: Task<Void, Never>?
        if case .open(let rate, _, _) = load.shape, !(rate > 0 && rate.isFinite) {
            eventSink.finish()
            return 0
        }
        if case .open(let rate, let arrival, _) = load.shape {
            ticker = startTicker(
                schedule: ArrivalSchedule(ratePerSecond: rate, arrival: arrival, seed: load.seed), runStart: runStart)
        } else {
            state.tickerDone = true
        }
        var graceTimer: Task<Void, Never>?
        fillClosedLoop(&state)
        if state.finished {
            eventSink.finish()
            return 0
        }
        for await event in events {
            switch event {
            case .finished(let trace):
                state.inFlight.removeValue(forKey: trace.index)
                if trace.isWarmup { state.warmupInFlight -= 1 }
                state.finishedCount += 1
                onTrace(trace)
                if !state.stopped {
                    if case .open = load.shape {
                        startWaiting(&state)
                    } else {
                        fillClosedLoop(&state)
                    }
                }
            case .due(let index, let scheduledAt):
                guard !state.stopped else { break }
                if case .open(_, _, let maxConcurrency) = load.shape, let maxConcurrency,
                    state.inFlight.count >= maxConcurrency
                {
                    state.waiting.append((index, scheduledAt))
                } else {
                    launch(index: index, scheduledAt: scheduledAt, state: &state)
                }
            case .tickerDone:
                state.tickerDone = true
            case .stop:
                guard !state.stopped else { break }
                state.stopped = true
                state.waiting.removeAll()
                ticker?.cancel()
                state.tickerDone = true
                let deadline = clock.nowNanos() &+ driverNanos(cancelGrace)
                let sink = eventSink
                let clock = self.clock
                graceTimer = Task {
                    await clock.sleep(untilNanos: deadline)
                    if !Task.isCancelled { sink.yield(.graceExpired) }
                }
            case .graceExpired:
                for request in state.inFlight.values { request.cancel() }
            }
            if state.inFlight.isEmpty && state.waiting.isEmpty && state.tickerDone
                && (state.stopped || !state.canStartClosedLoopRequest(now: clock.nowNanos()))
            {
                break
            }
        }
        ticker?.cancel()
        graceTimer?.cancel()
        eventSink.finish()
        return state.finishedCount
    }

    private func fillClosedLoop(_ state: inout DriverState) {
        guard case .closed(let concurrency) = load.shape else { return }
        while !state.stopped && state.inFlight.count < max(concurrency, 1)
            && state.canStartClosedLoopRequest(now: clock.nowNanos())
        {
            let index = state.nextIndex
            state.nextIndex += 1
            if index >= load.warmup && state.measuredStart == nil { state.measuredStart = clock.nowNanos() }
            launch(index: index, scheduledAt: nil, state: &state)
        }
        if state.inFlight.isEmpty && !state.canStartClosedLoopRequest(now: clock.nowNanos()) {
            state.finished = true
        }
    }

    private func startWaiting(_ state: inout DriverState) {
        guard case .open(_, _, let maxConcurrency) = load.shape else { return }
        while !state.waiting.isEmpty && state.inFlight.count < (maxConcurrency ?? Int.max) {
            let (index, scheduledAt) = state.waiting.removeFirst()
            launch(index: index, scheduledAt: scheduledAt, state: &state)
        }
    }

    private func launch(index: Int, scheduledAt: UInt64?, state: inout DriverState) {
        let order = RequestOrder(
            index: index, isWarmup: index < load.warmup, promptIndex: index % transport.promptCount,
            scheduledAtNanos: scheduledAt)
        if order.isWarmup { state.warmupInFlight += 1 }
        let sink = eventSink
        state.inFlight[index] = transport.send(order) { sink.yield(.finished($0)) }
    }

    /// Sleeps until each send time and reports it due.
    private func startTicker(schedule: ArrivalSchedule, runStart: UInt64) -> Task<Void, Never> {
        let sink = eventSink
        let load = self.load
        let clock = self.clock
        return Task {
            var measuredStartOffset: UInt64?
            for (index, offset) in schedule.enumerated() {
                if Task.isCancelled { break }
                if index >= load.warmup {
                    if measuredStartOffset == nil { measuredStartOffset = offset }
                    if case .requests(let n) = load.stop, index >= load.warmup + n { break }
                    if case .duration(let d) = load.stop, offset - measuredStartOffset! >= driverNanos(d) {
                        break
                    }
                }
                let target = runStart &+ offset
                if target > clock.nowNanos() {
                    await clock.sleep(untilNanos: target)
                    if Task.isCancelled { break }
                }
                sink.yield(.due(index: index, scheduledAt: target))
            }
            sink.yield(.tickerDone)
        }
    }
}

/// The real `RunClock`: CLOCK_MONOTONIC, the clock every trace timestamp is taken from.
public struct MonotonicRunClock: RunClock {
    public init() {}

    @inline(__always)
    public func nowNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    public func sleep(untilNanos deadline: UInt64) async {
        let now = nowNanos()
        guard deadline > now else { return }
        try? await Task.sleep(nanoseconds: deadline - now)
    }
}

/// A duration in whole nanoseconds (0 when negative).
func driverNanos(_ d: Duration) -> UInt64 {
    let (s, atto) = d.components
    guard s >= 0 else { return 0 }
    return UInt64(s) &* 1_000_000_000 &+ UInt64(atto / 1_000_000_000)
}

enum DriverEvent: Sendable {
    case finished(RequestTrace)
    /// `scheduledAt`: when the schedule wanted it sent, on the run clock.
    case due(index: Int, scheduledAt: UInt64)
    case tickerDone
    case stop
    case graceExpired
}

/// The coordinator's bookkeeping.
struct DriverState {
    let load: LoadSpec
    var nextIndex = 0
    var inFlight: [Int: any InFlightRequest] = [:]
    var warmupInFlight = 0
    var waiting: [(Int, UInt64)] = []
    /// Requests finished so far (their traces are handed on, never kept here).
    var finishedCount = 0
    var measuredStart: UInt64?
    var stopped = false
    var tickerDone = false
    var finished = false

    init(load: LoadSpec) { self.load = load }

    /// Closed loop: may another request start now?
    func canStartClosedLoopRequest(now: UInt64) -> Bool {
        guard case .closed = load.shape, !stopped else { return false }
        if nextIndex < load.warmup { return true }
        if warmupInFlight > 0 { return false }  // warmup finishes before measuring starts
        switch load.stop {
        case .requests(let n): return nextIndex < load.warmup + n
        case .duration(let d):
            guard let start = measuredStart else { return true }
            return now &- start < driverNanos(d)
        }
    }
}

/// The traces `run` returns, filled from the coordinator.
final class TraceCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var traces: [RequestTrace] = []

    func append(_ trace: RequestTrace) {
        lock.lock()
        traces.append(trace)
        lock.unlock()
    }

    func sorted() -> [RequestTrace] {
        lock.lock()
        defer { lock.unlock() }
        return traces.sorted { $0.index < $1.index }
    }
}

/// Whether a driver has run and whether a stop was asked for (from any thread).
final class DriverLifecycle: @unchecked Sendable {
    private let lock = NSLock()
    private var started = false
    private var stopped = false

    /// True the first time only.
    func begin() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if started { return false }
        started = true
        return true
    }

    func requestStop() {
        lock.lock()
        stopped = true
        lock.unlock()
    }

    var stopRequested: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }
}
