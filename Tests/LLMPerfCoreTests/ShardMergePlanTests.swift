import Foundation
import Testing

@testable import LLMPerfCore

/// `llmperf merge`'s checks and its time axis, on exact values.
@Suite struct ShardMergePlanTests {
    static func shard(
        _ id: String, _ index: Int, of count: Int, origin: Int64, variant: String? = nil, scenario: String = "h1",
        batch: String = "b1", status: RunStatus = .completed, host: String = "a", labels: [String] = []
    ) -> ShardCandidate {
        var info = RunInfo(
            id: id, name: "load", variant: variant, batchID: batch, labels: labels, status: status,
            scenarioHash: scenario,
            host: host, startedAt: Date(timeIntervalSince1970: Double(origin) / 1e9),
            endedAt: Date(timeIntervalSince1970: Double(origin) / 1e9 + 10))
        info.shard = ShardStamp(
            shard: ShardSpec(index: index, count: count)!,
            startClock: ClockOffset(offsetNanos: 1_000 + Int64(index), uncertaintyNanos: 40),
            endClock: ClockOffset(offsetNanos: 1_000 + Int64(index) + 7, uncertaintyNanos: 60), originWallNanos: origin)
        info.clientLoad = ClientLoad(
            cpuSeconds: Double(index + 1), wallSeconds: 10, lagP50Milliseconds: 0.1,
            lagP99Milliseconds: Double(index))
        return ShardCandidate(info: info, source: "shard-\(index).sqlite")
    }

    func problems(_ candidates: [ShardCandidate]) -> ShardMergeError? {
        if case .failure(let error) = ShardMergePlan.plan(candidates) { return error }
        return nil
    }

    @Test func shardsGoOnOneAxisFromTheEarliestOrigin() throws {
        let plan = try ShardMergePlan.plan([
            Self.shard("r2", 2, of: 3, origin: 5_000_300, host: "b", labels: ["x"]),
            Self.shard("r0", 0, of: 3, origin: 5_000_000, labels: ["y"]),
            Self.shard("r1", 1, of: 3, origin: 4_999_900, status: .interrupted, host: "b"),
        ]).get()
        #expect(plan.groups.count == 1)
        let group = plan.groups[0]
        #expect(group.parts.map(\.candidate.info.id) == ["r0", "r1", "r2"])
        #expect(group.parts.map(\.shiftNanos) == [100, 0, 400])
        #expect(group.merged.status == .interrupted)
        #expect(group.merged.host == "a, b")
        #expect(group.merged.labels == ["x", "y"])
        #expect(group.merged.shard == nil)
        #expect(group.merged.startedAt == Date(timeIntervalSince1970: 4_999_900 / 1e9))
        // The busiest shard's CPU share, the largest lag.
        #expect(group.merged.clientLoad?.cpuSeconds == 3)
        #expect(group.merged.clientLoad?.lagP99Milliseconds == 2)
    }

    @Test func oneMergedRunPerVariant() throws {
        let plan = try ShardMergePlan.plan([
            Self.shard("a0", 0, of: 2, origin: 10, variant: "base"),
            Self.shard("b0", 0, of: 2, origin: 90, variant: "fast"),
            Self.shard("a1", 1, of: 2, origin: 12, variant: "base"),
            Self.shard("b1", 1, of: 2, origin: 95, variant: "fast"),
        ]).get()
        #expect(plan.groups.map(\.merged.variant) == ["base", "fast"])
        #expect(plan.groups.map { $0.parts.map(\.shiftNanos) } == [[0, 2], [0, 5]])
    }

    @Test func shardsOfAnotherScenarioOrBatchAreRefusedByName() {
        let other = problems([
            Self.shard("r0", 0, of: 2, origin: 0), Self.shard("r1", 1, of: 2, origin: 0, scenario: "h2"),
        ])
        #expect(other?.kind == .refused)
        #expect(other?.description.contains("run r1 (shard-1.sqlite) measured another scenario than run r0") == true)
        let batch = problems([
            Self.shard("r0", 0, of: 2, origin: 0), Self.shard("r1", 1, of: 2, origin: 0, batch: "b2"),
        ])
        #expect(
            batch?.description
                == "run r1 (shard-1.sqlite) is of batch b2, run r0 of batch b1: shards of one load share a batch (--batch-id)"
        )
        let counts = problems([Self.shard("r0", 0, of: 2, origin: 0), Self.shard("r1", 1, of: 3, origin: 0)])
        #expect(counts?.description == "run r1 (shard-1.sqlite) is one of 3 shards, run r0 one of 2")
        var plain = Self.shard("r1", 1, of: 2, origin: 0)
        plain.info.shard = nil
        #expect(
            problems([Self.shard("r0", 0, of: 2, origin: 0), plain])?.description
                == "run r1 (shard-1.sqlite) is not a shard's run (it was not run with --shard I/N)")
    }

    @Test func aMissingOrRunningShardIsIncompleteAndARepeatedOneRefused() {
        let missing = problems([Self.shard("r0", 0, of: 4, origin: 0), Self.shard("r2", 2, of: 4, origin: 0)])
        #expect(missing == ShardMergeError(.incomplete, ["shards 1/4, 3/4 are missing"]))
        let running = problems([
            Self.shard("r0", 0, of: 2, origin: 0), Self.shard("r1", 1, of: 2, origin: 0, status: .running),
        ])
        #expect(running == ShardMergeError(.incomplete, ["shard 1/2 (run r1, shard-1.sqlite) is still running"]))
        let twice = problems([
            Self.shard("r0", 0, of: 2, origin: 0), Self.shard("r1", 1, of: 2, origin: 0),
            Self.shard("r9", 1, of: 2, origin: 0),
        ])
        #expect(twice?.kind == .refused)
        #expect(
            twice?.description
                == "shard 1/2 appears twice: run r1 (shard-1.sqlite) and run r9 (shard-1.sqlite)")
        #expect(problems([]) == ShardMergeError(.refused, ["nothing to merge: no run found"]))
    }

    @Test func aClockReadKeepsItsTightestBracket() {
        let reads = [
            ClockOffset(monotonicBefore: 100, wall: 1_000_150, monotonicAfter: 200),
            ClockOffset(monotonicBefore: 300, wall: 1_000_310, monotonicAfter: 320),
        ]
        #expect(reads[0] == ClockOffset(offsetNanos: 1_000_000, uncertaintyNanos: 50))
        #expect(ClockOffset.best(reads) == ClockOffset(offsetNanos: 1_000_000, uncertaintyNanos: 10))
        let stamp = Self.shard("r0", 0, of: 1, origin: 0).info.shard!
        #expect(stamp.clockDriftNanos == 7)
    }
}
