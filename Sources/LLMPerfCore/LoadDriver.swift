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
    /// `workload.sessions`: the driver starts sessions of turns rather than requests.
    public let sessions: SessionPlan?
    /// This driver's share of a sharded load (`ShardSpec`); nil: the whole load.
    public let shard: ShardSpec?
    private let events: AsyncStream<DriverStateMachine.Event>
    private let eventSink: AsyncStream<DriverStateMachine.Event>.Continuation
    private let lifecycle = DriverLifecycle()

    public init(
        transport: any Transport, load: LoadSpec, clock: any RunClock = MonotonicRunClock(),
        cancelGrace: Duration = .seconds(2), sessions: SessionPlan? = nil, shard: ShardSpec? = nil
    ) {
        self.shard = shard
        self.transport = transport
        self.load = load
        self.clock = clock
        self.cancelGrace = cancelGrace
        self.sessions = sessions
        (events, eventSink) = AsyncStream.makeStream(of: DriverStateMachine.Event.self)
    }

    /// Stops sending; requests in flight get `cancelGrace`, then are cancelled. Any thread.
    public func stop() {
        lifecycle.requestStop()
        eventSink.yield(.stopRequested)
    }

    /// Runs the load keeping nothing: `onTrace` gets each finished trace as it arrives (off the
    /// network thread, one at a time) and is the only place it goes. Returns how many requests
    /// finished (warmup included).
    @discardableResult
    public func stream(onTrace: @escaping @Sendable (RequestTrace) -> Void) async -> Int {
        guard lifecycle.begin() else { return 0 }
        // The run has a task of its own: cancelling the caller's task is a stop (grace, then
        // cancel), not the end of the timers and of the event loop that drains the requests.
        let run = Task { await coordinate(onTrace: onTrace) }
        return await withTaskCancellationHandler {
            await run.value
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

    /// The one task that owns the run's state: it feeds each event to the state machine, with
    /// the clock's time, and carries out the actions; the wake-ups and the grace timer are
    /// child tasks that only sleep and post an event.
    private func coordinate(onTrace: @Sendable (RequestTrace) -> Void) async -> Int {
        defer { eventSink.finish() }
        guard transport.promptCount > 0, !lifecycle.stopRequested, let pacer = load.makePacer(shard: shard) else {
            return 0
        }
        let configuration = DriverStateMachine.Configuration(
            load: load, promptCount: transport.promptCount, grace: cancelGrace, shard: shard)
        var machine: any DriverDecisions =
            if let sessions {
                SessionStateMachine(configuration: configuration, plan: sessions, pacer: pacer)
            } else {
                DriverStateMachine(configuration: configuration, pacer: pacer)
            }
        var inFlight: [Int: any InFlightRequest] = [:]
        var pending = events.makeAsyncIterator()
        let sink = eventSink
        let clock = self.clock
        return await withDiscardingTaskGroup(returning: Int.self) { timers in
            var event = DriverStateMachine.Event.started
            while true {
                for action in machine.handle(event, now: clock.nowNanos()) {
                    switch action {
                    case .send(let order):
                        inFlight[order.index] = transport.send(order) { sink.yield(.requestFinished($0)) }
                    case .handOn(let trace):
                        inFlight.removeValue(forKey: trace.index)
                        onTrace(trace)
                    case .wake(let deadline):
                        timers.addTask {
                            await clock.sleep(untilNanos: deadline)
                            if !Task.isCancelled { sink.yield(.requestDue) }
                        }
                    case .startGraceTimer(let deadline):
                        timers.addTask {
                            await clock.sleep(untilNanos: deadline)
                            if !Task.isCancelled { sink.yield(.graceExpired) }
                        }
                    case .cancelInFlight:
                        for request in inFlight.values { request.cancel() }
                    case .finish:
                        timers.cancelAll()
                        return machine.finishedCount
                    }
                }
                // The stream ends only once this task has finished it, so `next` gives an event.
                guard let next = await pending.next() else { return machine.finishedCount }
                event = next
            }
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
