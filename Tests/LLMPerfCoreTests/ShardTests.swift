import Foundation
import Testing

@testable import LLMPerfCore

/// Sharding a load (`ShardSpec`): the shards' requests together are exactly the unsharded run's (same
/// indices, prompts, warmup flags and, in an open loop, the same scheduled times), checked by running the
/// state machines to the end on a simulated clock, for 1 to 4 shards.
@Suite struct ShardTests {
    static let ms: UInt64 = 1_000_000

    @Test func parsesIAndN() throws {
        #expect(try ShardSpec.parse("0/4").get() == ShardSpec(index: 0, count: 4))
        #expect(try ShardSpec.parse("3/4").get() == ShardSpec(index: 3, count: 4))
        #expect(try ShardSpec.parse("0/1").get() == ShardSpec(index: 0, count: 1))
        for bad in ["4/4", "-1/4", "1/0", "1", "a/b", "1/2/3", "", "/2"] {
            #expect(throws: ShardSpecError.self) { try ShardSpec.parse(bad).get() }
        }
        if case .failure(let error) = ShardSpec.parse("5/4") {
            #expect(error.description == "shard index must be 0 to 3 for 4 shards, got '5/4'")
        }
    }

    @Test func sharesSplitAsEvenlyAsTheyGo() {
        let shards = (0..<3).map { ShardSpec(index: $0, count: 3)! }
        #expect(shards.map { $0.share(of: 8) } == [3, 3, 2])
        #expect(shards.map { $0.share(of: 3) } == [1, 1, 1])
        #expect(shards.map { $0.share(of: 0) } == [0, 0, 0])
        #expect(shards.map { $0.storedIndex(local: 2) } == [6, 7, 8])
        #expect(shards.map { $0.owns(7) } == [false, true, false])
    }

    @Test func aLoadWithFewerSlotsThanShardsIsRefused() {
        #expect(LoadSpec(shape: .closed(concurrency: 2), stop: .requests(5)).shardProblem(count: 3) != nil)
        #expect(LoadSpec(shape: .closed(concurrency: 3), stop: .requests(5)).shardProblem(count: 3) == nil)
        let open = LoadSpec(shape: .open(ratePerSecond: 5, arrival: .poisson, maxConcurrency: 1), stop: .requests(5))
        #expect(open.shardProblem(count: 2) != nil)
        #expect(open.shardProblem(count: 1) == nil)
    }

    struct Sent: Hashable, Comparable {
        var index: Int
        var prompt: Int
        var warmup: Bool
        var scheduled: UInt64?
        var session: Int?
        var turn: Int?

        static func < (a: Sent, b: Sent) -> Bool { a.index < b.index }
    }

    /// Runs `machine` to its end: each request takes 3 to 7 ms (by index), wakes are delivered on time.
    static func simulate(_ machine: inout some DriverDecisions) -> [Sent] {
        var sent: [Sent] = []
        var finishes: [(at: UInt64, trace: RequestTrace)] = []
        var wake: UInt64?
        var now: UInt64 = 0
        var actions = machine.handle(.started, now: 0)
        for _ in 0..<100_000 {
            for action in actions {
                switch action {
                case .send(let order):
                    sent.append(
                        Sent(
                            index: order.index, prompt: order.promptIndex, warmup: order.isWarmup,
                            scheduled: order.scheduledAtNanos, session: order.session?.session,
                            turn: order.session?.turn))
                    let trace = RequestTrace(
                        index: order.index, isWarmup: order.isWarmup, promptIndex: order.promptIndex,
                        startedAtNanos: now, endedAtNanos: now + UInt64(3 + order.index % 5) * ms,
                        session: order.session)
                    finishes.append((trace.endedAtNanos, trace))
                case .wake(let at):
                    wake = min(wake ?? at, at)
                case .finish:
                    return sent
                case .handOn, .startGraceTimer, .cancelInFlight:
                    break
                }
            }
            finishes.sort { $0.at < $1.at }
            if let next = finishes.first, wake.map({ next.at <= $0 }) ?? true {
                finishes.removeFirst()
                now = max(now, next.at)
                actions = machine.handle(.requestFinished(next.trace), now: now)
            } else if let at = wake {
                wake = nil
                now = max(now, at)
                actions = machine.handle(.requestDue, now: now)
            } else {
                Issue.record("the machine neither finished nor asked for anything")
                return sent
            }
        }
        Issue.record("the simulation did not end")
        return sent
    }

    static func requests(_ load: LoadSpec, shard: ShardSpec?, prompts: Int = 3) -> [Sent] {
        var machine = DriverStateMachine(
            configuration: .init(load: load, promptCount: prompts, grace: .seconds(2), shard: shard),
            pacer: load.makePacer(shard: shard)!)
        return simulate(&machine)
    }

    static let loads: [(String, LoadSpec)] = [
        ("closed", LoadSpec(shape: .closed(concurrency: 4), stop: .requests(23), warmup: 3)),
        ("closed duration", LoadSpec(shape: .closed(concurrency: 4), stop: .duration(.milliseconds(60)), warmup: 2)),
        (
            "open poisson",
            LoadSpec(
                shape: .open(ratePerSecond: 400, arrival: .poisson, maxConcurrency: nil), stop: .requests(40),
                warmup: 4,
                seed: 11)
        ),
        (
            "open capped",
            LoadSpec(
                shape: .open(ratePerSecond: 900, arrival: .constant, maxConcurrency: 4),
                stop: .duration(.milliseconds(50)), warmup: 1)
        ),
    ]

    @Test(arguments: 1...4)
    func theShardsTogetherSendExactlyTheUnshardedRequests(count: Int) {
        for (name, load) in Self.loads {
            let whole = Self.requests(load, shard: nil)
            var union: [Sent] = []
            for index in 0..<count {
                let part = Self.requests(load, shard: ShardSpec(index: index, count: count)!)
                #expect(
                    part.allSatisfy { $0.index % count == index }, "\(name): shard \(index)/\(count) sent another's")
                union += part
            }
            if case .open = load.shape {
                // Same indices, prompts, warmup flags and scheduled times.
                #expect(union.sorted() == whole.sorted(), "\(name), \(count) shards")
            } else if case .requests = load.stop {
                // A closed loop has no schedule: the same requests, each sent when its shard had a free slot.
                #expect(
                    union.map { Sent(index: $0.index, prompt: $0.prompt, warmup: $0.warmup) }.sorted()
                        == whole.map { Sent(index: $0.index, prompt: $0.prompt, warmup: $0.warmup) }.sorted(),
                    "\(name), \(count) shards")
            } else {
                // A closed loop for a time: each shard sends what its slots allow; no index twice, prompts by index.
                #expect(Set(union.map(\.index)).count == union.count, "\(name), \(count) shards")
                #expect(union.allSatisfy { $0.prompt == $0.index % 3 && $0.warmup == ($0.index < load.warmup) })
            }
        }
    }

    @Test func aClosedLoopShardRunsItsShareOfTheConcurrency() {
        let load = LoadSpec(shape: .closed(concurrency: 5), stop: .requests(30))
        var machine = DriverStateMachine(
            configuration: .init(load: load, promptCount: 1, grace: .seconds(2), shard: ShardSpec(index: 0, count: 2)),
            pacer: load.makePacer(shard: ShardSpec(index: 0, count: 2))!)
        // Shard 0 of 2 takes 3 of the 5 slots, and the even indices.
        let first = machine.handle(.started, now: 0)
        #expect(
            first
                == [0, 2, 4].map {
                    .send(RequestOrder(index: $0, isWarmup: false, promptIndex: 0, scheduledAtNanos: nil))
                })
    }

    @Test(arguments: 2...3)
    func sessionsAreSplitBySessionAndTheirTurnsStayTogether(count: Int) {
        let load = LoadSpec(shape: .closed(concurrency: 3), stop: .requests(25), warmup: 1)
        let plan = SessionPlan(
            spec: SessionSpec(turns: .range(2...4), thinkTimeMeanNanos: 2 * Self.ms), seed: 5, promptCount: 4)
        var union: [Sent] = []
        for index in 0..<count {
            let shard = ShardSpec(index: index, count: count)!
            var machine = SessionStateMachine(
                configuration: .init(load: load, promptCount: 4, grace: .seconds(2), shard: shard), plan: plan,
                pacer: load.makePacer(shard: shard)!)
            let part = Self.simulate(&machine)
            #expect(part.allSatisfy { $0.session! % count == index && $0.index % count == index })
            #expect(part.filter { !$0.warmup }.count == shard.share(of: 25))
            // A session's turns are in order, each with the plan's prompt.
            for session in Set(part.map(\.session!)) {
                let turns = part.filter { $0.session == session }
                #expect(turns.map(\.turn!) == Array(0..<turns.count))
                #expect(turns.allSatisfy { $0.prompt == plan.promptIndex(session: session, turn: $0.turn!) })
                #expect(turns.allSatisfy { $0.warmup == (session < 1) })
            }
            union += part
        }
        #expect(Set(union.map(\.index)).count == union.count, "stored indices are unique over the shards")
        #expect(union.filter { !$0.warmup }.count == 25)
    }
}
