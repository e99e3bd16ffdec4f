import Foundation
import Testing

@testable import LLMPerfCore

/// The driver's async shell over a fake transport (requests finish when the test says so) and a
/// manual clock (time moves when the test says so): what the state machine decides is what
/// happens, with the clock's times.
@Suite struct LoadDriverShellTests {
    static let ms: UInt64 = 1_000_000

    final class Seen: @unchecked Sendable {
        private let lock = NSLock()
        private var indices: [Int] = []
        func append(_ trace: RequestTrace) { lock.withLock { indices.append(trace.index) } }
        var value: [Int] { lock.withLock { indices } }
    }

    @Test func closedLoopRefillsAfterTheWarmupAndEachFinish() async {
        let clock = ManualRunClock()
        let transport = FakeTransport(promptCount: 2, clock: clock)
        let driver = LoadDriver(
            transport: transport, load: LoadSpec(shape: .closed(concurrency: 2), stop: .requests(3), warmup: 1),
            clock: clock)
        let seen = Seen()
        let run = Task { await driver.run { seen.append($0) } }
        await eventually("the warmup request is sent") { transport.sent.count == 1 }
        #expect(transport.sent.count == 1)
        transport.complete(0)
        await eventually("two measured requests are sent") { transport.sent.count == 3 }
        transport.complete(2)
        await eventually("the last one is sent") { transport.sent.count == 4 }
        transport.complete(1)
        transport.complete(3)
        let traces = await run.value
        #expect(traces.map(\.index) == [0, 1, 2, 3])
        #expect(seen.value == [0, 2, 1, 3])
        #expect(
            transport.sent.map(\.order) == [
                RequestOrder(index: 0, isWarmup: true, promptIndex: 0),
                RequestOrder(index: 1, isWarmup: false, promptIndex: 1),
                RequestOrder(index: 2, isWarmup: false, promptIndex: 0),
                RequestOrder(index: 3, isWarmup: false, promptIndex: 1),
            ])
    }

    @Test func openLoopPacesByTheClockAndRecordsTheWaitForASlot() async {
        let clock = ManualRunClock()
        let start = clock.nowNanos()
        let transport = FakeTransport(clock: clock)
        let driver = LoadDriver(
            transport: transport,
            load: LoadSpec(shape: .open(ratePerSecond: 10, arrival: .constant, maxConcurrency: 1), stop: .requests(3)),
            clock: clock)
        let run = Task { await driver.stream { _ in } }
        await eventually("the first request goes and a wake-up is set") {
            transport.sent.count == 1 && clock.sleeping == [start + 100 * Self.ms]
        }
        clock.advance(by: 100 * Self.ms)
        // Due with the slot taken: nothing is sent, the next wake-up is set.
        await eventually("the pacing goes on") { clock.sleeping == [start + 200 * Self.ms] }
        #expect(transport.sent.count == 1)
        clock.advance(by: 50 * Self.ms)
        transport.complete(0)
        await eventually("the waiting request goes") { transport.sent.count == 2 }
        clock.advance(by: 110 * Self.ms)
        transport.complete(1)
        await eventually("the last request goes") { transport.sent.count == 3 }
        transport.complete(2)
        #expect(await run.value == 3)
        let sent = transport.sent
        #expect(sent.map { $0.order.scheduledAtNanos } == [0, 100, 200].map { start + $0 * Self.ms })
        // started − scheduled: the time each waited for a slot.
        #expect(sent.map { $0.atNanos - $0.order.scheduledAtNanos! } == [0, 50 * Self.ms, 60 * Self.ms])
    }

    @Test func closedLoopStopsOnceTheDurationHasPassed() async {
        let clock = ManualRunClock()
        let transport = FakeTransport(clock: clock)
        let driver = LoadDriver(
            transport: transport, load: LoadSpec(shape: .closed(concurrency: 1), stop: .duration(.seconds(1))),
            clock: clock)
        let run = Task { await driver.stream { _ in } }
        await eventually("the first request is sent") { transport.sent.count == 1 }
        clock.advance(by: 999 * Self.ms)
        transport.complete(0)
        await eventually("a second request is sent within the second") { transport.sent.count == 2 }
        clock.advance(by: 1 * Self.ms)
        transport.complete(1)
        #expect(await run.value == 2)
        #expect(transport.sent.count == 2)
    }

    @Test func stopGivesTheGraceThenCancels() async {
        let clock = ManualRunClock()
        let transport = FakeTransport(clock: clock)
        let driver = LoadDriver(
            transport: transport, load: LoadSpec(shape: .closed(concurrency: 2), stop: .requests(10)), clock: clock,
            cancelGrace: .seconds(2))
        let seen = Seen()
        let run = Task { await driver.stream { seen.append($0) } }
        await eventually("both slots are filled") { transport.sent.count == 2 }
        let stopAt = clock.nowNanos()
        driver.stop()
        await eventually("the grace timer is set") { clock.sleeping == [stopAt + 2_000 * Self.ms] }
        transport.complete(0)
        await eventually("the finished request is handed on") { seen.value == [0] }
        clock.advance(by: 1_999 * Self.ms)
        #expect(clock.sleeping == [stopAt + 2_000 * Self.ms])
        #expect(transport.cancelled.isEmpty)
        clock.advance(by: 1 * Self.ms)
        #expect(await run.value == 2)
        #expect(transport.cancelled == [1])
        #expect(transport.sent.count == 2)
        #expect(seen.value == [0, 1])
    }

    @Test func cancellingTheAwaitingTaskIsAStop() async {
        let clock = ManualRunClock()
        let transport = FakeTransport(clock: clock)
        let driver = LoadDriver(
            transport: transport,
            load: LoadSpec(shape: .open(ratePerSecond: 1, arrival: .constant, maxConcurrency: nil), stop: .requests(9)),
            clock: clock, cancelGrace: .seconds(3))
        let run = Task { await driver.stream { _ in } }
        let start = clock.nowNanos()
        await eventually("a request is in flight, the next due in a second") {
            transport.sent.count == 1 && clock.sleeping == [start + 1_000 * Self.ms]
        }
        run.cancel()
        // The wake-up stays until the run ends (its event is ignored); the grace timer is added.
        await eventually("the grace timer is set") { clock.sleeping.contains(start + 3_000 * Self.ms) }
        clock.advance(by: 3_000 * Self.ms)
        #expect(await run.value == 1)
        #expect(transport.cancelled == [0])
        #expect(transport.sent.count == 1)
    }

    @Test func aStoppedOrUsedDriverSendsNothing() async {
        let clock = ManualRunClock()
        let transport = FakeTransport(clock: clock)
        let load = LoadSpec(shape: .closed(concurrency: 1), stop: .requests(1))
        let stopped = LoadDriver(transport: transport, load: load, clock: clock)
        stopped.stop()
        #expect(await stopped.stream { _ in } == 0)
        #expect(transport.sent.isEmpty)
        let used = LoadDriver(transport: transport, load: load, clock: clock)
        let run = Task { await used.stream { _ in } }
        await eventually("the request is sent") { transport.sent.count == 1 }
        transport.complete(0)
        #expect(await run.value == 1)
        #expect(await used.stream { _ in } == 0)
        #expect(transport.sent.count == 1)
    }
}
