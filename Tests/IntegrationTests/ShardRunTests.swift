import Foundation
import LLMPerfCore
import LLMPerfStore
import Testing

/// Sharded loads through the built executable against the bundled synthetic server: shards run as real
/// processes (`run --processes N`, or `run --shard I/N` apart) and merged (`llmperf merge`) make the run an
/// unsharded one makes, with statistics computed over every shard's rows.
@Suite(.serialized) struct ShardRunTests {
    static func startServer() throws -> (address: String, server: LLMPerfProcess.Running) {
        try LLMPerfProcess.startServer(["--engine", "synthetic", "--ttft-ms", "4", "--itl-ms", "1", "--tokens", "6"])
    }

    static func scenario(address: String, load: String, maxTokens: Int = 6) -> String {
        """
        version: 1
        name: sharded
        target: { url: "http://\(address)/v1", model: synthetic }
        workload: { prompts: ["one", "two words", "three more words"], max_tokens: \(maxTokens) }
        load: \(load)
        """
    }

    @Test(arguments: [
        "{ rate: 80, arrival: poisson, requests: 30, warmup: 2, seed: 3 }",
        "{ concurrency: 4, requests: 30, warmup: 2 }",
    ])
    func processesMakeTheRunAnUnshardedOneMakes(load: String) throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let (address, server) = try Self.startServer()
        defer { server.stop() }
        let path = try ws.write("s.yml", Self.scenario(address: address, load: load))
        let sharded = try LLMPerfProcess.run(["run", path, "--processes", "2", "--db", ws.database, "--quiet"])
        #expect(sharded.status == 0, "exit \(sharded.status)\n\(sharded.stderr)")
        #expect(sharded.stdout.contains("merged from 2 shards on 1 host"), "\(sharded.stdout)")
        #expect(sharded.stdout.contains("shard  host"), "the per-shard table: \(sharded.stdout)")
        let whole = try LLMPerfProcess.run(["run", path, "--db", ws.database, "--quiet"])
        #expect(whole.status == 0, "exit \(whole.status)\n\(whole.stderr)")

        let store = try RunStore(path: ws.database)
        let runs = try store.listRuns()
        #expect(runs.count == 2, "only the merged run and the unsharded one are stored here: \(runs.map(\.id))")
        let merged = try #require(runs.first { $0.mergedFrom != nil })
        let plain = try #require(runs.first { $0.mergedFrom == nil && $0.shard == nil })
        #expect(merged.status == .completed)
        #expect(merged.scenarioHash == plain.scenarioHash)
        #expect(merged.loadDescription == plain.loadDescription)
        let a = try store.traces(runID: merged.id)
        let b = try store.traces(runID: plain.id)
        // The same requests: indices, prompts and warmup flags, each from the shard that owns its index.
        #expect(a.map(\.index) == b.map(\.index))
        #expect(a.map(\.index) == Array(0..<32))
        #expect(a.map(\.promptIndex) == b.map(\.promptIndex))
        #expect(a.map(\.isWarmup) == b.map(\.isWarmup))
        #expect(a.map(\.shard) == a.map { $0.index % 2 })
        #expect(a.allSatisfy(\.succeeded) && b.allSatisfy(\.succeeded))
        if load.contains("rate") {
            // An open loop: the unsharded schedule. Within a shard the scheduled times differ from the unsharded
            // run's by one constant (where each run's clock started), to the nanosecond.
            for shard in 0..<2 {
                let gaps = Set(
                    zip(a, b).filter { $0.0.index % 2 == shard }.map {
                        Int64($0.0.scheduledAtNanos!) - Int64($0.1.scheduledAtNanos!)
                    })
                #expect(gaps.count == 1, "shard \(shard): \(gaps)")
            }
        } else {
            #expect(a.allSatisfy { $0.scheduledAtNanos == nil })
        }
        // Both shards read this machine's clocks: the same wall − monotonic offset, within their reads.
        let shards = try #require(merged.mergedFrom)
        #expect(shards.map(\.stamp.shard.index) == [0, 1])
        let offsets = shards.map(\.stamp.startClock.offsetNanos)
        #expect(abs(offsets[0] - offsets[1]) < 1_000_000, "\(offsets)")
        #expect(shards.allSatisfy { abs($0.stamp.clockDriftNanos ?? .max) < 1_000_000 })
        #expect(shards.allSatisfy { $0.stamp.startClock.uncertaintyNanos < 1_000_000 })
        #expect(shards.allSatisfy { $0.stamp.startAtWallNanos != nil && $0.shiftNanos >= 0 })
        #expect(shards.contains { $0.shiftNanos == 0 })
    }

    @Test func shardsRunApartMergeIntoExactStatistics() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let (address, server) = try Self.startServer()
        defer { server.stop() }
        let path = try ws.write(
            "s.yml", Self.scenario(address: address, load: "{ rate: 60, arrival: constant, requests: 24, warmup: 1 }"))
        let files = (0..<2).map { ws.root.appendingPathComponent("shard-\($0).sqlite").path }
        let startAt = WallClockTime.text(Date().addingTimeInterval(1.5))
        let shards = try (0..<2).map { index in
            try LLMPerfProcess.start([
                "run", path, "--shard", "\(index)/2", "--start-at", startAt, "--batch-id", "b-test", "--db",
                files[index],
                "--quiet",
            ])
        }
        for (index, shard) in shards.enumerated() {
            let result = try shard.wait(timeout: 120)
            #expect(result.status == 0, "shard \(index): exit \(result.status)\n\(result.stderr)")
            #expect(result.stdout.contains("shard \(index)/2 of a sharded load"), "\(result.stdout)")
        }
        // A shard alone is missing its partner: said, and nothing is stored.
        let alone = try LLMPerfProcess.run(["merge", files[0], "--into", ws.database])
        #expect(alone.status == 1, "exit \(alone.status)\n\(alone.stderr)")
        #expect(alone.stderr.contains("shard 1/2 is missing"), "\(alone.stderr)")

        let merge = try LLMPerfProcess.run(["merge", files[0], files[1], "--into", ws.database, "--json"])
        #expect(merge.status == 0, "exit \(merge.status)\n\(merge.stderr)")
        // JSONDecoder reads numbers back exactly (JSONSerialization on Linux can miss a last bit).
        let documents = try JSONDecoder().decode([MergedJSON].self, from: Data(merge.stdout.utf8))
        #expect(documents.count == 1)
        let json = try #require(documents.first)
        #expect(json.shards.map(\.shard) == [0, 1])
        #expect(json.shards.map(\.succeeded).reduce(0, +) == 24)

        // Every shard's rows, read from the shards' own files: the merged statistics are theirs, exactly.
        var union: [RequestTrace] = []
        for file in files {
            let store = try RunStore(path: file)
            let run = try #require(try store.listRuns().first)
            union += try store.traces(runID: run.id)
        }
        let store = try RunStore(path: ws.database)
        let merged = try #require(try store.listRuns().first)
        let stored = try store.traces(runID: merged.id)
        union.sort { $0.index < $1.index }  // the merged run's order: sums then run in the same order, to the bit
        #expect(stored.count == union.count && stored.count == 25)
        let expected = RunSummary(traces: union)
        let got = RunSummary(traces: stored)
        for metric in [Metric.ttft, .e2e, .itl, .tpot, .ttftScheduled, .queue] {
            let want = try #require(expected.metrics[metric], "\(metric)")
            #expect(got.metrics[metric] == want, "\(metric)")
            // The command's own summary (read in passes over the stored rows), to the bit.
            #expect(json.metrics[metric.rawValue] == want, "\(metric) in the JSON")
        }
        #expect(json.succeeded == 24)

        let list = try LLMPerfProcess.run(["runs", "list", "--db", ws.database])
        #expect(list.stdout.contains("completed · 2 shards"), "\(list.stdout)")
        let shardList = try LLMPerfProcess.run(["runs", "list", "--db", files[1]])
        #expect(shardList.stdout.contains("completed · shard 1/2"), "\(shardList.stdout)")

        // The merged run is a run like any other: shown, reported (with its shards) and compared.
        let report = try LLMPerfProcess.run(["report", merged.id, "--format", "md", "--db", ws.database])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout.contains("merged from 2 shards"), "\(report.stdout)")
        #expect(report.stdout.contains("| shard | host |"), "\(report.stdout)")
        // The same shards twice: refused.
        let again = try LLMPerfProcess.run(["merge", files[0], files[1], "--into", ws.database])
        #expect(
            again.status == 2 && again.stderr.contains("were merged into run \(merged.id) already"), "\(again.stderr)")

        // A shard of another scenario (another max_tokens) is refused, named.
        let other = try ws.write(
            "other.yml",
            Self.scenario(address: address, load: "{ rate: 60, arrival: constant, requests: 4 }", maxTokens: 3))
        let otherFile = ws.root.appendingPathComponent("other-1.sqlite").path
        let run = try LLMPerfProcess.run([
            "run", other, "--shard", "1/2", "--batch-id", "b-test", "--db", otherFile, "--quiet",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let mixed = try LLMPerfProcess.run(["merge", files[0], otherFile, "--into", ws.database])
        #expect(mixed.status == 2, "exit \(mixed.status)\n\(mixed.stderr)")
        #expect(mixed.stderr.contains("measured another scenario"), "\(mixed.stderr)")
    }

    /// What the tests read of `merge --json`.
    struct MergedJSON: Decodable {
        var succeeded: Int
        var metrics: [String: DistributionSummary]
        var shards: [ShardThroughput]
    }

    @Test func badShardFlagsAreClearErrors() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let path = try ws.write(
            "s.yml", Self.scenario(address: "127.0.0.1:9", load: "{ concurrency: 2, requests: 4 }"))
        for (arguments, message) in [
            (["--shard", "2/2"], "shard index must be 0 to 1 for 2 shards"),
            (["--shard", "one"], "--shard expects I/N"),
            (["--start-at", "tomorrow"], "--start-at expects an RFC 3339 time"),
            (["--processes", "2", "--shard", "0/2"], "--processes runs its own shards"),
            (["--shard", "0/3"], "a closed loop of concurrency 2 cannot be split into 3 shards"),
            (["--shard", "0/2", "--steady-state"], "--steady-state cannot be combined"),
        ] {
            let result = try LLMPerfProcess.run(["run", path, "--db", ws.database] + arguments)
            #expect(result.status == 2, "\(arguments): exit \(result.status)\n\(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        let local = try ws.write(
            "local.yml",
            """
            version: 1
            name: local
            target: { backend: local, engine: synthetic }
            workload: { prompts: ["hi"], max_tokens: 2 }
            load: { concurrency: 2, requests: 2 }
            """)
        let result = try LLMPerfProcess.run(["run", local, "--processes", "2", "--db", ws.database])
        #expect(result.status == 2 && result.stderr.contains("--processes needs a target url"), "\(result.stderr)")
        #expect(try RunStore(path: ws.database).listRuns().isEmpty, "nothing was run")
    }
}
