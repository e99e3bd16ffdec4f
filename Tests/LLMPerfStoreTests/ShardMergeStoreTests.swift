import Foundation
import GRDB
import LLMPerfCore
import Testing

@testable import LLMPerfStore

/// `RunStore.merge` on real SQLite files: every row of every shard, each with its shard and its times moved
/// onto the merged axis, chunk times and everything else as stored; the shards' clocks kept with the run.
@Suite struct ShardMergeStoreTests {
    static func folder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("llmperf-merge-\(UUID().uuidString)")
    }

    /// A shard's file with `indices` stored as `RunStoreTests.sampleTrace`s, origin at `origin` on the wall clock.
    static func shardFile(
        _ path: String, index: Int, of count: Int, origin: Int64, indices: [Int], scenario: String = "h"
    ) throws -> RunInfo {
        let store = try RunStore(path: path)
        var info = RunInfo(
            id: try store.newRunID(), name: "load", batchID: "b1", scenarioHash: scenario, host: "host\(index)",
            startedAt: Date(timeIntervalSince1970: 1_000))
        info.shard = ShardStamp(
            shard: ShardSpec(index: index, count: count)!,
            startClock: ClockOffset(offsetNanos: 900 + Int64(index), uncertaintyNanos: 30),
            originWallNanos: origin, startAtWallNanos: 2_000)
        try store.insertRun(info)
        try store.insertRequests(indices.map { RunStoreTests.sampleTrace(index: $0) }, runID: info.id)
        try store.recordShardEnd(
            id: info.id, endClock: ClockOffset(offsetNanos: 905 + Int64(index), uncertaintyNanos: 20))
        try store.finishRun(id: info.id, status: .completed, endedAt: Date(timeIntervalSince1970: 1_010))
        return try #require(try store.run(id: info.id))
    }

    @Test func mergedRowsAreTheShardsRowsOnOneAxis() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = (0..<2).map { dir.appendingPathComponent("shard-\($0).sqlite").path }
        let shard0 = try Self.shardFile(files[0], index: 0, of: 2, origin: 10_000, indices: [0, 2, 4])
        let shard1 = try Self.shardFile(files[1], index: 1, of: 2, origin: 10_750, indices: [1, 3])
        #expect(shard0.shard?.endClock == ClockOffset(offsetNanos: 905, uncertaintyNanos: 20))
        #expect(try RunStore(path: files[0]).traces(runID: shard0.id).map(\.shard) == [0, 0, 0])

        let into = try RunStore(path: dir.appendingPathComponent("merged.sqlite").path)
        let plan = try ShardMergePlan.plan([
            ShardCandidate(info: shard1, source: files[1]), ShardCandidate(info: shard0, source: files[0]),
        ]).get()
        let merged = try into.merge(plan)
        #expect(merged.count == 1)
        let run = try #require(try into.run(id: merged[0].id))
        #expect(run.mergedFrom?.map(\.sourceRunID) == [shard0.id, shard1.id])
        #expect(run.mergedFrom?.map(\.shiftNanos) == [0, 750])
        #expect(run.mergedFrom?.map(\.host) == ["host0", "host1"])
        #expect(run.mergedFrom?[1].stamp.clockDriftNanos == 5)
        #expect(run.mergedFrom?[1].stamp.lateByNanos == Int64(8_750))
        #expect(run.host == "host0, host1")

        let traces = try into.traces(runID: run.id)
        #expect(traces.map(\.index) == [0, 1, 2, 3, 4])
        #expect(traces.map(\.shard) == [0, 1, 0, 1, 0])
        for trace in traces {
            var expected = RunStoreTests.sampleTrace(index: trace.index)
            let shift: UInt64 = trace.index % 2 == 1 ? 750 : 0
            expected.scheduledAtNanos = expected.scheduledAtNanos.map { $0 + shift }
            expected.startedAtNanos += shift
            expected.endedAtNanos += shift
            expected.chunkAtNanos = expected.chunkAtNanos.map { $0 + shift }
            expected.shard = trace.index % 2
            #expect(trace == expected, "request \(trace.index)")
        }

        // The same shards again: refused, naming the earlier merge.
        #expect {
            _ = try into.merge(plan)
        } throws: { error in
            "\(error)".contains("were merged into run \(run.id) already")
        }
        // Deleting the merged run takes its shard rows with it.
        try into.deleteRun(id: run.id)
        #expect(try into.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM run_shards") } == 0)
    }

    /// Runs that claim to be shards 0 and 1 but hold a request of the same index: refused, and nothing of the
    /// merge is stored (one transaction).
    @Test func shardsSharingARequestIndexAreRefusedWholesale() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = (0..<2).map { dir.appendingPathComponent("shard-\($0).sqlite").path }
        let a = try Self.shardFile(files[0], index: 0, of: 2, origin: 1, indices: [0, 1])
        let b = try Self.shardFile(files[1], index: 1, of: 2, origin: 1, indices: [1, 3])
        let into = try RunStore(path: dir.appendingPathComponent("merged.sqlite").path)
        let plan = try ShardMergePlan.plan([
            ShardCandidate(info: a, source: files[0]), ShardCandidate(info: b, source: files[1]),
        ]).get()
        #expect {
            _ = try into.merge(plan)
        } throws: { error in
            guard case .conflict(let message) = error as? StoreError else { return false }
            return message.contains("two of the shards hold a request of the same index")
        }
        #expect(try into.listRuns().isEmpty)
        #expect(try into.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM requests") } == 0)
    }

    /// SQLite attaches at most 10 files: 11 shards go in two batches, every row arrives, in index order.
    @Test func moreShardsThanSQLiteAttachesGoInBatches() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        var candidates: [ShardCandidate] = []
        for index in 0..<11 {
            let file = dir.appendingPathComponent("shard-\(index).sqlite").path
            let info = try Self.shardFile(
                file, index: index, of: 11, origin: 100 + Int64(index), indices: [index, index + 11])
            candidates.append(ShardCandidate(info: info, source: file))
        }
        let into = try RunStore(path: dir.appendingPathComponent("merged.sqlite").path)
        let merged = try into.merge(try ShardMergePlan.plan(candidates).get())
        let traces = try into.traces(runID: merged[0].id)
        #expect(traces.map(\.index) == Array(0..<22))
        #expect(traces.map(\.shard) == (0..<22).map { $0 % 11 })
        #expect(
            traces.map(\.startedAtNanos)
                == (0..<22).map { RunStoreTests.sampleTrace(index: $0).startedAtNanos + UInt64($0 % 11) })
        #expect(try into.run(id: merged[0].id)?.status == .completed)
    }

    @Test func shardsAlreadyInTheDatabaseAreMergedWithoutAFile() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("runs.sqlite").path
        let a = try Self.shardFile(path, index: 0, of: 2, origin: 5, indices: [0])
        let b = try Self.shardFile(path, index: 1, of: 2, origin: 5, indices: [1])
        let store = try RunStore(path: path)
        #expect(try store.shardRuns().map(\.id).sorted() == [a.id, b.id].sorted())
        let merged = try store.merge(
            try ShardMergePlan.plan([ShardCandidate(info: a, source: path), ShardCandidate(info: b, source: path)])
                .get())
        #expect(try store.requestCount(runID: merged[0].id) == 2)
        #expect(try store.requestCount(runID: a.id) == 1, "the shards' own runs stay")
    }
}
