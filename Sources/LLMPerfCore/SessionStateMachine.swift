/// The load driver's decisions for a run of multi-turn sessions (`workload.sessions`): the same
/// events in and actions out as `DriverStateMachine`, with the session, not the request, as the
/// unit the pacer starts and the load limits.
///
/// The rules:
/// - The pacer says when each *session* starts: `.whenSlotFrees` once fewer than `maxInFlight`
///   sessions are active (a closed loop of N conversations), `.at(offset)` at that offset (an open
///   loop of session arrivals; with `maxInFlight` active, an arrival waits in line for one to end).
/// - A session sends its first turn when it starts; when a turn ends well and the session has
///   turns left, the next one is due after the plan's think time (its `scheduledAtNanos`, in an
///   open loop). A turn that fails ends its session: there is no answer to continue from.
/// - The first `warmup` sessions are warmup (every turn flagged `isWarmup`); in a closed loop a
///   measured session starts only once no warmup session is active.
/// - Limits count measured requests (turns), checked on each one's due time: `.requests(n)`
///   sends n measured turns (once the n-th is out, sessions thinking end at once),
///   `.duration(d)` those due before `d` has passed since the first measured one was due. Once
///   reached, nothing more is sent (sessions in their think time end).
/// - Sharded (`configuration.shard`): sessions are numbered as in the whole load and the other
///   shards' are passed over; a turn's index is `ShardSpec.storedIndex(local:)` and `.requests(n)`
///   counts this shard's `share(of: n)`.
/// - Stop and grace as in `DriverStateMachine`.
public struct SessionStateMachine: Sendable {
    public typealias Event = DriverStateMachine.Event
    public typealias Action = DriverStateMachine.Action

    public let configuration: DriverStateMachine.Configuration
    public let plan: SessionPlan
    private var pacer: any Pacer
    private var pending: Pace?
    private var startNanos: UInt64 = 0
    private var measuredStartNanos: UInt64?
    private(set) var nextIndex = 0
    private(set) var nextSession = 0
    public private(set) var inFlight = 0
    /// Sessions started and not ended (in flight or thinking).
    public private(set) var activeSessions = 0
    private(set) var warmupSessionsActive = 0
    /// Turns waiting out their think time: (due, session, turn), kept sorted by due time.
    private var thinking: [(due: UInt64, turn: SessionTurn)] = []
    /// Open-loop session arrivals past their time, waiting for a session to end.
    private var waiting: [UInt64] = []
    /// The earliest wake asked for and not yet delivered.
    private var wakeAt: UInt64?
    /// No more sessions will start (the pacer ran out).
    private(set) var arrivalsDone = false
    /// Nothing more will be sent (a limit was reached, or stop).
    private(set) var sendingDone = false
    public private(set) var stopped = false
    public private(set) var finished = false
    public private(set) var finishedCount = 0
    /// Measured turns sent so far (the `.requests` limit).
    private var measuredSent = 0

    public init(configuration: DriverStateMachine.Configuration, plan: SessionPlan, pacer: any Pacer) {
        self.configuration = configuration
        self.plan = plan
        self.pacer = pacer
    }

    public mutating func handle(_ event: Event, now: UInt64) -> [Action] {
        guard !finished else { return [] }
        var actions: [Action] = []
        switch event {
        case .started:
            startNanos = now
            pace(now: now, into: &actions)
        case .requestDue:
            wakeAt = nil
            pace(now: now, into: &actions)
        case .requestFinished(let trace):
            inFlight -= 1
            finishedCount += 1
            actions.append(.handOn(trace))
            if let turn = trace.session {
                let next = turn.turn + 1
                if !sendingDone && trace.succeeded && next < plan.turnCount(session: turn.session) {
                    let due = now &+ plan.thinkNanos(session: turn.session, turn: turn.turn)
                    let place = thinking.firstIndex { $0.due > due } ?? thinking.endIndex
                    thinking.insert((due, SessionTurn(session: turn.session, turn: next)), at: place)
                } else {
                    endSession(turn.session)
                }
            }
            pace(now: now, into: &actions)
        case .stopRequested:
            guard !stopped else { return [] }
            stopped = true
            stopSending()
            if inFlight > 0 { actions.append(.startGraceTimer(untilNanos: now &+ configuration.graceNanos)) }
        case .graceExpired:
            if inFlight > 0 { actions.append(.cancelInFlight) }
        }
        let nothingLeft = sendingDone || (arrivalsDone && activeSessions == 0)
        if inFlight == 0 && waiting.isEmpty && thinking.isEmpty && nothingLeft {
            finished = true
            actions.append(.finish)
        }
        return actions
    }

    private func isWarmupSession(_ session: Int) -> Bool { session < configuration.warmup }

    private var hasFreeSlot: Bool { activeSessions < (pacer.maxInFlight ?? Int.max) }

    private mutating func endSession(_ session: Int) {
        activeSessions -= 1
        if isWarmupSession(session) { warmupSessionsActive -= 1 }
    }

    private mutating func stopSending() {
        sendingDone = true
        arrivalsDone = true
        pending = nil
        waiting.removeAll()
        // Sessions thinking end now; those with a turn in flight end when it does.
        for entry in thinking { endSession(entry.turn.session) }
        thinking.removeAll()
    }

    /// Sends the turns whose think time is over, then starts the sessions that are due.
    private mutating func pace(now: UInt64, into actions: inout [Action]) {
        guard !sendingDone else { return }
        while let first = thinking.first, first.due <= now {
            thinking.removeFirst()
            send(first.turn, dueAt: first.due, scheduled: !configuration.measuredAfterWarmup, now: now, into: &actions)
            if sendingDone { return }
        }
        while !waiting.isEmpty && hasFreeSlot {
            let due = waiting.removeFirst()
            startSession(dueAt: due, scheduled: true, now: now, into: &actions)
            if sendingDone { return }
        }
        var nextArrival: UInt64?
        while !arrivalsDone {
            let pace = pending ?? pacer.next()
            pending = pace
            switch pace {
            case .never:
                arrivalsDone = true
                pending = nil
            case .whenSlotFrees:
                if skipsNextSession() { continue }
                guard hasFreeSlot else { break }
                if !isWarmupSession(nextSession) && configuration.measuredAfterWarmup && warmupSessionsActive > 0 {
                    break
                }
                pending = nil
                startSession(dueAt: now, scheduled: false, now: now, into: &actions)
                if sendingDone { return }
                continue
            case .at(let offset):
                if skipsNextSession() { continue }
                let due = startNanos &+ offset
                if due > now {
                    nextArrival = due
                    break
                }
                pending = nil
                if hasFreeSlot {
                    startSession(dueAt: due, scheduled: true, now: now, into: &actions)
                    if sendingDone { return }
                } else {
                    waiting.append(due)
                }
                continue
            }
            break
        }
        let wake = [nextArrival, thinking.first?.due].compactMap { $0 }.min()
        if let wake, wakeAt.map({ wake < $0 }) ?? true {
            wakeAt = wake
            actions.append(.wake(atNanos: wake))
        }
    }

    /// Passes over the next session when it is another shard's (its arrival used up).
    private mutating func skipsNextSession() -> Bool {
        guard let shard = configuration.shard, !shard.owns(nextSession) else { return false }
        pending = nil
        nextSession += 1
        return true
    }

    private mutating func startSession(dueAt: UInt64, scheduled: Bool, now: UInt64, into actions: inout [Action]) {
        let session = nextSession
        nextSession += 1
        activeSessions += 1
        if isWarmupSession(session) { warmupSessionsActive += 1 }
        send(SessionTurn(session: session, turn: 0), dueAt: dueAt, scheduled: scheduled, now: now, into: &actions)
    }

    private mutating func send(
        _ turn: SessionTurn, dueAt: UInt64, scheduled: Bool, now: UInt64, into actions: inout [Action]
    ) {
        let isWarmup = isWarmupSession(turn.session)
        if !isWarmup && limitReached(dueAt: dueAt) {
            // This session's turn is not sent: it ends here, like every other.
            endSession(turn.session)
            stopSending()
            return
        }
        let index = configuration.shard?.storedIndex(local: nextIndex) ?? nextIndex
        nextIndex += 1
        inFlight += 1
        actions.append(
            .send(
                RequestOrder(
                    index: index, isWarmup: isWarmup,
                    promptIndex: plan.promptIndex(session: turn.session, turn: turn.turn),
                    scheduledAtNanos: scheduled ? dueAt : nil, session: turn)))
        // The last measured turn is out: sessions thinking end now rather than after their think
        // time, and those in flight end with their turn.
        if !isWarmup, case .requests = configuration.stop, measuredSent >= measuredLimit { stopSending() }
    }

    /// The measured turns this run sends under `.requests(n)`: n, or its shard's share of n.
    private var measuredLimit: Int {
        guard case .requests(let n) = configuration.stop else { return Int.max }
        return configuration.shard?.share(of: n) ?? n
    }

    private mutating func limitReached(dueAt: UInt64) -> Bool {
        switch configuration.stop {
        case .requests:
            if measuredSent >= measuredLimit { return true }
            measuredSent += 1
            return false
        case .duration(let d):
            let start = measuredStartNanos ?? dueAt
            measuredStartNanos = start
            return dueAt &- start >= d.wholeNanoseconds
        }
    }
}

/// What `LoadDriver` runs: a request at a time (`DriverStateMachine`) or sessions of turns
/// (`SessionStateMachine`).
protocol DriverDecisions: Sendable {
    mutating func handle(_ event: DriverStateMachine.Event, now: UInt64) -> [DriverStateMachine.Action]
    var finishedCount: Int { get }
}

extension DriverStateMachine: DriverDecisions {}
extension SessionStateMachine: DriverDecisions {}
