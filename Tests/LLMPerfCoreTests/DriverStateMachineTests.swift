import Testing

@testable import LLMPerfCore

/// The load driver's decisions, event by event, with exact actions and no clock or network.
@Suite struct DriverStateMachineTests {
    typealias Action = DriverStateMachine.Action
    static let ms: UInt64 = 1_000_000

    func machine(_ load: LoadSpec, prompts: Int = 3, grace: Duration = .seconds(2)) -> DriverStateMachine {
        DriverStateMachine(
            configuration: .init(load: load, promptCount: prompts, grace: grace), pacer: load.makePacer()!)
    }

    func trace(_ index: Int, warmup: Bool = false) -> RequestTrace {
        RequestTrace(index: index, isWarmup: warmup, startedAtNanos: 0, endedAtNanos: 0)
    }

    func send(_ index: Int, prompt: Int, warmup: Bool = false, scheduled: UInt64? = nil) -> Action {
        .send(RequestOrder(index: index, isWarmup: warmup, promptIndex: prompt, scheduledAtNanos: scheduled))
    }

    @Test func closedLoopFillsItsSlotsThenRefillsOneForOne() {
        var m = machine(LoadSpec(shape: .closed(concurrency: 2), stop: .requests(4)))
        #expect(m.handle(.started, now: 0) == [send(0, prompt: 0), send(1, prompt: 1)])
        // Whichever finishes first frees the slot for the next index; prompts cycle.
        #expect(m.handle(.requestFinished(trace(1)), now: 10) == [.handOn(trace(1)), send(2, prompt: 2)])
        #expect(m.handle(.requestFinished(trace(0)), now: 20) == [.handOn(trace(0)), send(3, prompt: 0)])
        #expect(m.handle(.requestFinished(trace(2)), now: 30) == [.handOn(trace(2))])
        #expect(m.handle(.requestFinished(trace(3)), now: 40) == [.handOn(trace(3)), .finish])
        #expect(m.finishedCount == 4)
        #expect(m.handle(.requestDue, now: 50) == [])
    }

    @Test func closedLoopMeasuresOnlyAfterTheWarmupHasFinished() {
        var m = machine(LoadSpec(shape: .closed(concurrency: 3), stop: .requests(3), warmup: 2))
        // Two warmup requests, and the third slot stays empty while they run.
        #expect(m.handle(.started, now: 0) == [send(0, prompt: 0, warmup: true), send(1, prompt: 1, warmup: true)])
        #expect(m.handle(.requestFinished(trace(0, warmup: true)), now: 5) == [.handOn(trace(0, warmup: true))])
        #expect(
            m.handle(.requestFinished(trace(1, warmup: true)), now: 6) == [
                .handOn(trace(1, warmup: true)), send(2, prompt: 2), send(3, prompt: 0), send(4, prompt: 1),
            ])
        #expect(m.handle(.requestFinished(trace(2)), now: 7) == [.handOn(trace(2))])
        #expect(m.handle(.requestFinished(trace(3)), now: 8) == [.handOn(trace(3))])
        #expect(m.handle(.requestFinished(trace(4)), now: 9) == [.handOn(trace(4)), .finish])
    }

    @Test func requestsLimitCountsMeasuredRequestsOnly() {
        var m = machine(LoadSpec(shape: .closed(concurrency: 4), stop: .requests(2), warmup: 1))
        #expect(m.handle(.started, now: 0) == [send(0, prompt: 0, warmup: true)])
        #expect(
            m.handle(.requestFinished(trace(0, warmup: true)), now: 1) == [
                .handOn(trace(0, warmup: true)), send(1, prompt: 1), send(2, prompt: 2),
            ])
        #expect(m.handle(.requestFinished(trace(1)), now: 2) == [.handOn(trace(1))])
        #expect(m.handle(.requestFinished(trace(2)), now: 3) == [.handOn(trace(2)), .finish])
        var none = machine(LoadSpec(shape: .closed(concurrency: 4), stop: .requests(0)))
        #expect(none.handle(.started, now: 0) == [.finish])
    }

    @Test func closedLoopDurationCountsFromTheFirstMeasuredSend() {
        var m = machine(LoadSpec(shape: .closed(concurrency: 1), stop: .duration(.seconds(1)), warmup: 1), prompts: 1)
        #expect(m.handle(.started, now: 0) == [send(0, prompt: 0, warmup: true)])
        // The measured second starts at 500 ms, not at the run's start.
        #expect(
            m.handle(.requestFinished(trace(0, warmup: true)), now: 500 * Self.ms) == [
                .handOn(trace(0, warmup: true)), send(1, prompt: 0),
            ])
        #expect(m.handle(.requestFinished(trace(1)), now: 1_499 * Self.ms) == [.handOn(trace(1)), send(2, prompt: 0)])
        // At exactly one second after it, nothing more is sent.
        #expect(m.handle(.requestFinished(trace(2)), now: 1_500 * Self.ms) == [.handOn(trace(2)), .finish])
    }

    @Test func openLoopSendsOnScheduleAndAsksToBeWoken() {
        let start: UInt64 = 1_000
        var m = machine(
            LoadSpec(shape: .open(ratePerSecond: 10, arrival: .constant, maxConcurrency: nil), stop: .requests(3)))
        #expect(
            m.handle(.started, now: start) == [
                send(0, prompt: 0, scheduled: start), .wake(atNanos: start + 100 * Self.ms),
            ])
        // Woken late: every request due by now goes at once, each with its own scheduled time.
        #expect(
            m.handle(.requestDue, now: start + 250 * Self.ms) == [
                send(1, prompt: 1, scheduled: start + 100 * Self.ms),
                send(2, prompt: 2, scheduled: start + 200 * Self.ms),
            ])
        #expect(m.inFlight == 3)
        #expect(m.handle(.requestFinished(trace(0)), now: start + 260 * Self.ms) == [.handOn(trace(0))])
        #expect(m.handle(.requestFinished(trace(2)), now: start + 270 * Self.ms) == [.handOn(trace(2))])
        #expect(m.handle(.requestFinished(trace(1)), now: start + 280 * Self.ms) == [.handOn(trace(1)), .finish])
    }

    /// With `maxConcurrency` reached a due request waits for a slot: started − scheduled is that wait.
    @Test func openLoopWaitsForAFreeSlotInOrder() {
        var m = machine(
            LoadSpec(shape: .open(ratePerSecond: 10, arrival: .constant, maxConcurrency: 1), stop: .requests(3)))
        #expect(m.handle(.started, now: 0) == [send(0, prompt: 0, scheduled: 0), .wake(atNanos: 100 * Self.ms)])
        // Due with the slot taken: it waits, and the pacing goes on.
        #expect(m.handle(.requestDue, now: 100 * Self.ms) == [.wake(atNanos: 200 * Self.ms)])
        #expect(
            m.handle(.requestFinished(trace(0)), now: 150 * Self.ms) == [
                .handOn(trace(0)), send(1, prompt: 1, scheduled: 100 * Self.ms),
            ])
        // The last request is due; none after it (the limit), so no more wake-ups.
        #expect(m.handle(.requestDue, now: 200 * Self.ms) == [])
        #expect(
            m.handle(.requestFinished(trace(1)), now: 260 * Self.ms) == [
                .handOn(trace(1)), send(2, prompt: 2, scheduled: 200 * Self.ms),
            ])
        #expect(m.handle(.requestFinished(trace(2)), now: 270 * Self.ms) == [.handOn(trace(2)), .finish])
    }

    @Test func openLoopFollowsThePoissonSchedule() {
        let load = LoadSpec(shape: .open(ratePerSecond: 50, arrival: .poisson, maxConcurrency: nil), stop: .requests(6))
        let expected = ArrivalSchedule(ratePerSecond: 50, arrival: .poisson, seed: load.seed).offsets(count: 6)
        var m = machine(load)
        var scheduled: [UInt64] = []
        var actions = m.handle(.started, now: 0)
        while true {
            var wake: UInt64?
            for action in actions {
                switch action {
                case .send(let order): scheduled.append(order.scheduledAtNanos!)
                case .wake(let at): wake = at
                default: break
                }
            }
            guard let wake else { break }
            actions = m.handle(.requestDue, now: wake)
        }
        #expect(scheduled == expected)
        #expect(m.inFlight == 6)
    }

    @Test func openLoopDurationCountsScheduledTimesAfterTheWarmup() {
        var m = machine(
            LoadSpec(
                shape: .open(ratePerSecond: 10, arrival: .constant, maxConcurrency: nil),
                stop: .duration(.milliseconds(250)), warmup: 2), prompts: 1)
        #expect(
            m.handle(.started, now: 0) == [
                send(0, prompt: 0, warmup: true, scheduled: 0), .wake(atNanos: 100 * Self.ms),
            ])
        // Warmup (0, 100 ms), then measured requests due at 200, 300 and 400 ms; 500 ms is 300 ms
        // after the first measured one, past the 250 ms.
        #expect(
            m.handle(.requestDue, now: 500 * Self.ms) == [
                send(1, prompt: 0, warmup: true, scheduled: 100 * Self.ms),
                send(2, prompt: 0, scheduled: 200 * Self.ms),
                send(3, prompt: 0, scheduled: 300 * Self.ms), send(4, prompt: 0, scheduled: 400 * Self.ms),
            ])
        for index in 0..<4 { _ = m.handle(.requestFinished(trace(index, warmup: index < 2)), now: 600 * Self.ms) }
        #expect(m.handle(.requestFinished(trace(4)), now: 600 * Self.ms) == [.handOn(trace(4)), .finish])
    }

    @Test func stopGivesGraceThenCancelsWhatIsInFlight() {
        var m = machine(LoadSpec(shape: .closed(concurrency: 2), stop: .requests(10)), grace: .seconds(2))
        _ = m.handle(.started, now: 0)
        #expect(m.handle(.stopRequested, now: 5_000 * Self.ms) == [.startGraceTimer(untilNanos: 7_000 * Self.ms)])
        #expect(m.handle(.stopRequested, now: 5_500 * Self.ms) == [])
        // A request that ends within the grace is handed on, and nothing replaces it.
        #expect(m.handle(.requestFinished(trace(0)), now: 6_000 * Self.ms) == [.handOn(trace(0))])
        #expect(m.handle(.graceExpired, now: 7_000 * Self.ms) == [.cancelInFlight])
        #expect(m.handle(.requestFinished(trace(1)), now: 7_001 * Self.ms) == [.handOn(trace(1)), .finish])
        #expect(m.finishedCount == 2)
    }

    @Test func stopWithNothingInFlightFinishesAtOnceAndDropsTheWaitingLine() {
        var idle = machine(
            LoadSpec(shape: .open(ratePerSecond: 1, arrival: .constant, maxConcurrency: nil), stop: .requests(5)))
        _ = idle.handle(.started, now: 0)
        _ = idle.handle(.requestFinished(trace(0)), now: 1)
        #expect(idle.handle(.stopRequested, now: 2) == [.finish])

        var capped = machine(
            LoadSpec(shape: .open(ratePerSecond: 10, arrival: .constant, maxConcurrency: 1), stop: .requests(5)))
        _ = capped.handle(.started, now: 0)
        _ = capped.handle(.requestDue, now: 100 * Self.ms)  // request 1 waits for the slot
        #expect(capped.handle(.stopRequested, now: 120 * Self.ms) == [.startGraceTimer(untilNanos: 2_120 * Self.ms)])
        #expect(capped.handle(.requestDue, now: 200 * Self.ms) == [])
        // The waiting request is never sent.
        #expect(capped.handle(.requestFinished(trace(0)), now: 130 * Self.ms) == [.handOn(trace(0)), .finish])
    }

    @Test func pacers() {
        var closed = LoadSpec(shape: .closed(concurrency: 0), stop: .requests(1)).makePacer()!
        #expect(closed.maxInFlight == 1)
        #expect(closed.next() == .whenSlotFrees)
        var open = LoadSpec(shape: .open(ratePerSecond: 4, arrival: .constant, maxConcurrency: 3), stop: .requests(1))
            .makePacer()!
        #expect(open.maxInFlight == 3)
        #expect([open.next(), open.next(), open.next()] == [0, 250, 500].map { .at(offsetNanos: $0 * Self.ms) })
        #expect(
            LoadSpec(shape: .open(ratePerSecond: 0, arrival: .poisson, maxConcurrency: nil), stop: .requests(1))
                .makePacer() == nil)
    }
}
