/// The load driver's decisions, as a value: it takes events (the run started, a request came
/// due, a request finished, stop was asked for, the cancel grace ran out) with the time they
/// are handled at, and returns the actions the driver must take (send an order, hand a trace
/// on, wake at a time, start the grace timer, cancel what is in flight, finish). It does no
/// I/O, reads no clock and keeps no trace: `LoadDriver` is the thin async shell around it.
///
/// The rules:
/// - Requests are numbered from 0; the first `warmup` are flagged `isWarmup`; the prompt is
///   `index % promptCount`. The pacer says when each is due.
/// - `.whenSlotFrees` (closed loop): sent once fewer than `maxInFlight` are in flight, and a
///   measured request waits until no warmup request is in flight (`measuredAfterWarmup`).
/// - `.at(offset)` (open loop): due at `start + offset` (its `scheduledAtNanos`); the machine
///   asks to be woken then. Due while `maxInFlight` are in flight, it waits in line for a free
///   slot, first come first served.
/// - Limits, checked on each measured request's due time before it is sent: `.requests(n)`
///   sends `warmup + n` requests in all; `.duration(d)` sends measured requests due before
///   `d` has passed since the first measured one was due. Requests in flight then finish.
/// - Sharded (`configuration.shard`): the pacer paces the whole load, limits are checked on every
///   index, and the requests of the other shards are passed over (never sent, never waited for).
/// - Stop: nothing more is sent, the waiting line is dropped, requests in flight get `grace`,
///   then they are cancelled (they still finish, as cancelled).
/// - The run finishes once nothing more will be sent and nothing is in flight or waiting.
public struct DriverStateMachine: Sendable {
    public struct Configuration: Sendable {
        public var warmup: Int
        public var stop: LoadStop
        /// How many prompts there are to cycle through (at least 1).
        public var promptCount: Int
        /// How long requests in flight may finish after a stop before they are cancelled (ns).
        public var graceNanos: UInt64
        /// A measured request due when a slot frees waits until the warmup has finished.
        public var measuredAfterWarmup: Bool
        /// This run's share of a sharded load (`run --shard I/N`, see `ShardSpec`); nil: the whole load.
        public var shard: ShardSpec?

        public init(warmup: Int, stop: LoadStop, promptCount: Int, graceNanos: UInt64, measuredAfterWarmup: Bool) {
            self.warmup = warmup
            self.stop = stop
            self.promptCount = promptCount
            self.graceNanos = graceNanos
            self.measuredAfterWarmup = measuredAfterWarmup
        }

        /// The configuration of `load` (a closed loop measures after its warmup).
        public init(load: LoadSpec, promptCount: Int, grace: Duration, shard: ShardSpec? = nil) {
            let measuredAfterWarmup: Bool
            if case .closed = load.shape { measuredAfterWarmup = true } else { measuredAfterWarmup = false }
            self.init(
                warmup: load.warmup, stop: load.stop, promptCount: promptCount, graceNanos: grace.wholeNanoseconds,
                measuredAfterWarmup: measuredAfterWarmup)
            self.shard = shard
        }
    }

    public enum Event: Sendable, Equatable {
        /// The run begins (the pacer's offsets count from now).
        case started
        /// The time asked for with `.wake(atNanos:)` has come.
        case requestDue
        case requestFinished(RequestTrace)
        case stopRequested
        /// The time asked for with `.startGraceTimer(untilNanos:)` has come.
        case graceExpired
    }

    public enum Action: Sendable, Equatable {
        case send(RequestOrder)
        /// Give the finished request's trace to whoever consumes the run.
        case handOn(RequestTrace)
        /// Deliver `.requestDue` once the clock reads this time (at most one wake is pending).
        case wake(atNanos: UInt64)
        /// Deliver `.graceExpired` once the clock reads this time.
        case startGraceTimer(untilNanos: UInt64)
        /// Cancel every request in flight.
        case cancelInFlight
        /// The run is over: nothing is in flight and nothing more will be sent.
        case finish
    }

    public let configuration: Configuration
    private var pacer: any Pacer
    /// The next request's pace, asked for and not yet used.
    private var pending: Pace?
    private var startNanos: UInt64 = 0
    /// When the first measured request was due.
    private var measuredStartNanos: UInt64?
    private(set) var nextIndex = 0
    public private(set) var inFlight = 0
    private(set) var warmupInFlight = 0
    /// Open-loop requests past their due time, waiting for a slot: (index, scheduled at).
    private var waiting: [(index: Int, scheduledAt: UInt64)] = []
    private var waitingHead = 0
    private var wakePending = false
    /// No more requests will be sent (a limit was reached, the pacer ran out, or stop).
    private(set) var pacingDone = false
    public private(set) var stopped = false
    public private(set) var finished = false
    /// Requests finished so far (warmup included); their traces are handed on, never kept.
    public private(set) var finishedCount = 0

    public init(configuration: Configuration, pacer: any Pacer) {
        precondition(configuration.promptCount > 0, "a run needs at least one prompt")
        self.configuration = configuration
        self.pacer = pacer
    }

    /// What to do about `event`, handled when the run clock reads `now`.
    public mutating func handle(_ event: Event, now: UInt64) -> [Action] {
        guard !finished else { return [] }
        var actions: [Action] = []
        switch event {
        case .started:
            startNanos = now
            pace(now: now, into: &actions)
        case .requestDue:
            wakePending = false
            pace(now: now, into: &actions)
        case .requestFinished(let trace):
            inFlight -= 1
            if trace.isWarmup { warmupInFlight -= 1 }
            finishedCount += 1
            actions.append(.handOn(trace))
            pace(now: now, into: &actions)
        case .stopRequested:
            guard !stopped else { return [] }
            stopped = true
            pacingDone = true
            pending = nil
            waiting.removeAll()
            waitingHead = 0
            if inFlight > 0 { actions.append(.startGraceTimer(untilNanos: now &+ configuration.graceNanos)) }
        case .graceExpired:
            if inFlight > 0 { actions.append(.cancelInFlight) }
        }
        if pacingDone && inFlight == 0 && waitingCount == 0 {
            finished = true
            actions.append(.finish)
        }
        return actions
    }

    private var waitingCount: Int { waiting.count - waitingHead }

    private var hasFreeSlot: Bool { inFlight < (pacer.maxInFlight ?? Int.max) }

    /// Sends what is due at `now`: first the waiting line, then new requests from the pacer
    /// until one is not due yet, has no slot, or a limit is reached.
    private mutating func pace(now: UInt64, into actions: inout [Action]) {
        guard !stopped else { return }
        while waitingCount > 0 && hasFreeSlot {
            let next = waiting[waitingHead]
            waitingHead += 1
            send(index: next.index, scheduledAt: next.scheduledAt, into: &actions)
        }
        if waitingCount == 0 && waitingHead > 0 {
            waiting.removeAll(keepingCapacity: true)
            waitingHead = 0
        }
        while !pacingDone {
            let pace = pending ?? pacer.next()
            pending = pace
            let index = nextIndex
            let isMeasured = index >= configuration.warmup
            let dueAt: UInt64
            switch pace {
            case .never:
                pacingDone = true
                pending = nil
                return
            case .whenSlotFrees:
                guard hasFreeSlot else { return }
                if isMeasured && configuration.measuredAfterWarmup && warmupInFlight > 0 { return }
                dueAt = now
            case .at(let offset):
                dueAt = startNanos &+ offset
            }
            if isMeasured && limitReached(index: index, dueAt: dueAt) {
                pacingDone = true
                pending = nil
                return
            }
            if let shard = configuration.shard, !shard.owns(index) {
                pending = nil
                nextIndex += 1
                continue
            }
            if case .at = pace, dueAt > now {
                if !wakePending {
                    wakePending = true
                    actions.append(.wake(atNanos: dueAt))
                }
                return
            }
            pending = nil
            nextIndex += 1
            if case .at = pace {
                if hasFreeSlot {
                    send(index: index, scheduledAt: dueAt, into: &actions)
                } else {
                    waiting.append((index, dueAt))
                }
            } else {
                send(index: index, scheduledAt: nil, into: &actions)
            }
        }
    }

    /// Whether measured request `index`, due at `dueAt`, is past the run's stop limit.
    private mutating func limitReached(index: Int, dueAt: UInt64) -> Bool {
        switch configuration.stop {
        case .requests(let n):
            return index >= configuration.warmup + n
        case .duration(let d):
            let start = measuredStartNanos ?? dueAt
            measuredStartNanos = start
            return dueAt &- start >= d.wholeNanoseconds
        }
    }

    private mutating func send(index: Int, scheduledAt: UInt64?, into actions: inout [Action]) {
        let isWarmup = index < configuration.warmup
        inFlight += 1
        if isWarmup { warmupInFlight += 1 }
        actions.append(
            .send(
                RequestOrder(
                    index: index, isWarmup: isWarmup, promptIndex: index % configuration.promptCount,
                    scheduledAtNanos: scheduledAt)))
    }
}
