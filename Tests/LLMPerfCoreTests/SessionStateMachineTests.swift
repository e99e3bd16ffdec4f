import Testing

@testable import LLMPerfCore

/// The session driver's decisions, event by event, with exact actions and no clock or network:
/// sessions are what the pacer starts and the concurrency counts, turns follow each other after a
/// think time, a failed turn ends its session.
@Suite struct SessionStateMachineTests {
    typealias Action = DriverStateMachine.Action
    static let ms: UInt64 = 1_000_000

    func machine(
        _ load: LoadSpec, turns: ClosedRange<Int>, thinkMillis: UInt64, prompts: Int = 1
    ) -> SessionStateMachine {
        let plan = SessionPlan(
            spec: SessionSpec(turns: .range(turns), thinkTimeMeanNanos: thinkMillis * Self.ms), seed: 7,
            promptCount: prompts)
        return SessionStateMachine(
            configuration: .init(load: load, promptCount: prompts, grace: .seconds(2)), plan: plan,
            pacer: load.makePacer()!)
    }

    func trace(_ index: Int, _ session: Int, _ turn: Int, warmup: Bool = false, ok: Bool = true) -> RequestTrace {
        RequestTrace(
            index: index, isWarmup: warmup, startedAtNanos: 0, endedAtNanos: 0,
            outcome: ok ? .ok : .failed(.http(status: 500), detail: ""),
            session: SessionTurn(session: session, turn: turn))
    }

    func send(_ index: Int, _ session: Int, _ turn: Int, warmup: Bool = false, scheduled: UInt64? = nil) -> Action {
        .send(
            RequestOrder(
                index: index, isWarmup: warmup, promptIndex: 0, scheduledAtNanos: scheduled,
                session: SessionTurn(session: session, turn: turn)))
    }

    @Test func closedLoopCountsSessionsAndWaitsTheThinkTimeBetweenTurns() {
        var m = machine(LoadSpec(shape: .closed(concurrency: 2), stop: .requests(4)), turns: 2...2, thinkMillis: 100)
        // Two sessions, each sending its first turn.
        #expect(m.handle(.started, now: 0) == [send(0, 0, 0), send(1, 1, 0)])
        // A turn ends: the session thinks for 100 ms; its slot is not free (it is still active).
        #expect(
            m.handle(.requestFinished(trace(0, 0, 0)), now: 10 * Self.ms) == [
                .handOn(trace(0, 0, 0)), .wake(atNanos: 110 * Self.ms),
            ])
        #expect(m.activeSessions == 2)
        // The second session's think time ends later: the wake already asked for comes first.
        #expect(m.handle(.requestFinished(trace(1, 1, 0)), now: 20 * Self.ms) == [.handOn(trace(1, 1, 0))])
        #expect(m.handle(.requestDue, now: 110 * Self.ms) == [send(2, 0, 1), .wake(atNanos: 120 * Self.ms)])
        #expect(m.handle(.requestDue, now: 120 * Self.ms) == [send(3, 1, 1)])
        // Session 0's last turn ends: a new session would start, but the limit of 4 turns is reached.
        #expect(m.handle(.requestFinished(trace(2, 0, 1)), now: 130 * Self.ms) == [.handOn(trace(2, 0, 1))])
        #expect(m.handle(.requestFinished(trace(3, 1, 1)), now: 140 * Self.ms) == [.handOn(trace(3, 1, 1)), .finish])
        #expect(m.activeSessions == 0)
    }

    @Test func aFailedTurnEndsItsSessionAndFreesTheSlot() {
        var m = machine(LoadSpec(shape: .closed(concurrency: 1), stop: .requests(3)), turns: 3...3, thinkMillis: 0)
        #expect(m.handle(.started, now: 0) == [send(0, 0, 0)])
        // No answer to continue from: session 0 ends and session 1 takes its place.
        #expect(
            m.handle(.requestFinished(trace(0, 0, 0, ok: false)), now: 5) == [
                .handOn(trace(0, 0, 0, ok: false)), send(1, 1, 0),
            ])
        // A think time of 0: the next turn is due at once.
        #expect(m.handle(.requestFinished(trace(1, 1, 0)), now: 6) == [.handOn(trace(1, 1, 0)), send(2, 1, 1)])
        #expect(m.handle(.requestFinished(trace(2, 1, 1)), now: 7) == [.handOn(trace(2, 1, 1)), .finish])
    }

    @Test func openLoopStartsSessionsOnScheduleAndSchedulesTurnsAfterTheirThinkTime() {
        var m = machine(
            LoadSpec(shape: .open(ratePerSecond: 10, arrival: .constant, maxConcurrency: nil), stop: .requests(4)),
            turns: 2...2, thinkMillis: 50)
        #expect(m.handle(.started, now: 0) == [send(0, 0, 0, scheduled: 0), .wake(atNanos: 100 * Self.ms)])
        // The turn ends at 30 ms: the next turn is due at 80 ms, before the next session's arrival.
        #expect(
            m.handle(.requestFinished(trace(0, 0, 0)), now: 30 * Self.ms) == [
                .handOn(trace(0, 0, 0)), .wake(atNanos: 80 * Self.ms),
            ])
        // Woken late: the turn goes with the time it was due, then the next arrival is asked for.
        #expect(
            m.handle(.requestDue, now: 85 * Self.ms) == [
                send(1, 0, 1, scheduled: 80 * Self.ms), .wake(atNanos: 100 * Self.ms),
            ])
        #expect(
            m.handle(.requestDue, now: 100 * Self.ms) == [
                send(2, 1, 0, scheduled: 100 * Self.ms), .wake(atNanos: 200 * Self.ms),
            ])
        #expect(m.activeSessions == 2)
        #expect(m.handle(.requestFinished(trace(1, 0, 1)), now: 120 * Self.ms) == [.handOn(trace(1, 0, 1))])
        #expect(m.activeSessions == 1)
        #expect(m.handle(.requestFinished(trace(2, 1, 0)), now: 150 * Self.ms) == [.handOn(trace(2, 1, 0))])
        // Session 1's second turn (due at 200 ms, as is session 2's arrival) is the 4th and last turn.
        #expect(m.handle(.requestDue, now: 200 * Self.ms) == [send(3, 1, 1, scheduled: 200 * Self.ms)])
        #expect(m.handle(.requestFinished(trace(3, 1, 1)), now: 210 * Self.ms) == [.handOn(trace(3, 1, 1)), .finish])
    }

    @Test func warmupSessionsRunTheirTurnsBeforeMeasuredSessionsStart() {
        var m = machine(
            LoadSpec(shape: .closed(concurrency: 2), stop: .requests(2), warmup: 1), turns: 2...2, thinkMillis: 100)
        // Session 0 is warmup (all its turns); session 1 waits for it to end.
        #expect(m.handle(.started, now: 0) == [send(0, 0, 0, warmup: true)])
        #expect(
            m.handle(.requestFinished(trace(0, 0, 0, warmup: true)), now: 10 * Self.ms) == [
                .handOn(trace(0, 0, 0, warmup: true)), .wake(atNanos: 110 * Self.ms),
            ])
        #expect(m.handle(.requestDue, now: 110 * Self.ms) == [send(1, 0, 1, warmup: true)])
        #expect(
            m.handle(.requestFinished(trace(1, 0, 1, warmup: true)), now: 120 * Self.ms) == [
                .handOn(trace(1, 0, 1, warmup: true)), send(2, 1, 0), send(3, 2, 0),
            ])
        // Two measured turns were the limit: the sessions end with them.
        #expect(m.handle(.requestFinished(trace(2, 1, 0)), now: 130 * Self.ms) == [.handOn(trace(2, 1, 0))])
        #expect(m.handle(.requestFinished(trace(3, 2, 0)), now: 140 * Self.ms) == [.handOn(trace(3, 2, 0)), .finish])
    }

    @Test func stopEndsSessionsThatAreThinking() {
        var m = machine(LoadSpec(shape: .closed(concurrency: 1), stop: .requests(10)), turns: 3...3, thinkMillis: 1_000)
        #expect(m.handle(.started, now: 0) == [send(0, 0, 0)])
        #expect(
            m.handle(.requestFinished(trace(0, 0, 0)), now: 10) == [
                .handOn(trace(0, 0, 0)), .wake(atNanos: 10 + 1_000 * Self.ms),
            ])
        #expect(m.handle(.stopRequested, now: 20) == [.finish])
        #expect(m.activeSessions == 0)
        #expect(m.handle(.requestDue, now: 1_000 * Self.ms) == [])
    }
}

/// What each turn of each session sends and how long it thinks: a pure function of the seed, the
/// session and the turn.
@Suite struct SessionPlanTests {
    @Test func drawsAreReproducibleAndDependOnTheSeed() {
        let spec = SessionSpec(
            turns: .range(3...8), thinkTimeMeanNanos: 2_000_000_000, thinkTimeStddevNanos: 500_000_000)
        let a = SessionPlan(spec: spec, seed: 42, promptCount: 10)
        let b = SessionPlan(spec: spec, seed: 42, promptCount: 10)
        let c = SessionPlan(spec: spec, seed: 43, promptCount: 10)
        func draws(_ p: SessionPlan) -> [[Int]] {
            (0..<50).map { s in
                [p.turnCount(session: s)] + (0..<8).map { p.promptIndex(session: s, turn: $0) }
                    + (0..<8).map { Int(p.thinkNanos(session: s, turn: $0)) }
            }
        }
        #expect(draws(a) == draws(b))
        #expect(draws(a) != draws(c))
        // Asked in another order, the same answers.
        #expect(a.turnCount(session: 17) == b.turnCount(session: 17))
        #expect(Set((0..<200).map { a.turnCount(session: $0) }) == Set(3...8))
    }

    @Test func thinkTimesFollowTheMeanAndStandardDeviation() {
        let spec = SessionSpec(
            turns: .range(2...2), thinkTimeMeanNanos: 2_000_000_000, thinkTimeStddevNanos: 500_000_000)
        let plan = SessionPlan(spec: spec, seed: 1, promptCount: 1)
        let draws = (0..<4_000).map { Double(plan.thinkNanos(session: $0, turn: 0)) / 1e9 }
        let mean = draws.reduce(0, +) / Double(draws.count)
        let sd = (draws.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(draws.count - 1)).squareRoot()
        // 4,000 draws: the sample mean's standard error is 0.008 s, the deviation's about 0.006 s.
        #expect(abs(mean - 2.0) < 0.04)
        #expect(abs(sd - 0.5) < 0.04)
        let fixed = SessionPlan(spec: SessionSpec(turns: .range(2...2), thinkTimeMeanNanos: 7), seed: 1, promptCount: 1)
        #expect(fixed.thinkNanos(session: 3, turn: 1) == 7)
    }

    @Test func datasetScriptsAreReplayedInOrder() {
        let scripts = [
            [Prompt(user: "a1"), Prompt(user: "a2")], [Prompt(user: "b1"), Prompt(user: "b2"), Prompt(user: "b3")],
        ]
        let plan = SessionPlan(spec: SessionSpec(turns: .fromDataset), seed: 1, promptCount: 0, scripts: scripts)
        #expect(plan.turnCount(session: 0) == 2)
        #expect(plan.turnCount(session: 1) == 3)
        #expect(plan.turnCount(session: 2) == 2)
        #expect(plan.prompt(session: 1, turn: 2, prompts: []).user == "b3")
        #expect(plan.prompt(session: 2, turn: 1, prompts: []).user == "a2")
    }

    @Test func historyWindowKeepsTheLastExchanges() {
        let exchanges = (0..<5).map { ChatExchange(user: "q\($0)", assistant: "a\($0)") }
        #expect(SessionSpec(history: .full).carried(exchanges).count == 5)
        #expect(SessionSpec(history: .window(2)).carried(exchanges).map(\.user) == ["q3", "q4"])
    }
}
