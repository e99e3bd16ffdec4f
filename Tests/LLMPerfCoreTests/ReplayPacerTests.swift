import Foundation
import Testing

@testable import LLMPerfCore

/// `ReplayPacer` through the driver's state machine: each request due at its trace offset over the speed, no
/// more than the limit, and nothing capping what is in flight.
@Suite struct ReplayPacerTests {
    static let ms: UInt64 = 1_000_000

    static func spec(speed: Double = 1, limit: Int? = nil) -> ReplaySpec {
        ReplaySpec(
            path: "t.jsonl", format: .jsonl, speed: speed, limit: limit,
            requests: [0, 10, 10, 25, 1_000].map {
                ReplayRequest(offsetNanos: $0 * ms, inputTokens: 4, outputTokens: 2)
            })
    }

    /// Every send's scheduled time (relative to the start), waking the machine exactly when it asks.
    func schedule(_ spec: ReplaySpec, warmup: Int = 0, start: UInt64 = 7) -> [RequestOrder] {
        let load = LoadSpec(shape: .replay(spec), stop: .requests(spec.requests.count - warmup), warmup: warmup)
        var machine = DriverStateMachine(
            configuration: .init(load: load, promptCount: spec.requests.count, grace: .seconds(1)),
            pacer: load.makePacer()!)
        var orders: [RequestOrder] = []
        var actions = machine.handle(.started, now: start)
        while true {
            var wake: UInt64?
            for action in actions {
                if case .send(var order) = action {
                    order.scheduledAtNanos = order.scheduledAtNanos.map { $0 - start }
                    orders.append(order)
                }
                if case .wake(let at) = action { wake = at }
            }
            guard let wake else { break }
            actions = machine.handle(.requestDue, now: wake)
        }
        #expect(machine.inFlight == orders.count)
        return orders
    }

    @Test func requestsAreDueAtTheTracesOffsets() {
        let orders = schedule(Self.spec())
        #expect(orders.map(\.scheduledAtNanos) == [0, 10, 10, 25, 1_000].map { $0 * Self.ms })
        // Row i carries prompt i (the replay's prompts are its rows).
        #expect(orders.map(\.promptIndex) == [0, 1, 2, 3, 4])
    }

    @Test func speedDividesEveryOffset() {
        #expect(schedule(Self.spec(speed: 2)).map(\.scheduledAtNanos) == [0, 5, 5, 12.5, 500].map { UInt64($0 * 1e6) })
        #expect(schedule(Self.spec(speed: 0.5)).map(\.scheduledAtNanos) == [0, 20, 20, 50, 2_000].map { $0 * Self.ms })
        // Rounded to the nanosecond: 10 ms / 3.
        #expect(schedule(Self.spec(speed: 3))[1].scheduledAtNanos == 3_333_333)
    }

    @Test func limitTakesTheFirstRows() {
        #expect(schedule(Self.spec(limit: 3)).map(\.scheduledAtNanos) == [0, 10, 10].map { $0 * Self.ms })
        var pacer = ReplayPacer(spec: Self.spec(speed: 2, limit: 2))
        #expect(pacer.maxInFlight == nil)
        #expect(
            [pacer.next(), pacer.next(), pacer.next()] == [.at(offsetNanos: 0), .at(offsetNanos: 5 * Self.ms), .never])
    }

    @Test func warmupRequestsAreTheFirstRows() {
        let orders = schedule(Self.spec(), warmup: 2)
        #expect(orders.map(\.isWarmup) == [true, true, false, false, false])
        #expect(orders.count == 5)
    }
}
