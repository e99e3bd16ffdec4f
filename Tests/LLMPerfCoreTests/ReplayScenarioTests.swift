import Foundation
import Testing

@testable import LLMPerfCore

/// `load.replay` in a scenario: the trace is read at load time, its errors carry both positions, its bytes,
/// speed and limit are part of the scenario's hash, and the shipped example loads as its comment says.
@Suite struct ReplayScenarioTests {
    /// A folder with `trace.jsonl` holding `trace`, and the scenario `s.yml` in it.
    static func load(trace: String, replay: String, load extra: String = "") throws(ScenarioError) -> Scenario {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("replay-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try? trace.write(to: directory.appendingPathComponent("trace.jsonl"), atomically: true, encoding: .utf8)
        let yaml = """
            version: 1
            name: r
            target: { url: "http://127.0.0.1:1/v1", model: m }
            workload: { stream: true }
            load:
              replay: \(replay)
            \(extra)
            """
        let document = try ScenarioLoader.load(
            yaml: yaml, path: directory.appendingPathComponent("s.yml").path, environment: [:])
        return document.runs[0]
    }

    static let trace = """
        {"timestamp": 0, "input_length": 600, "output_length": 5, "hash_ids": [1, 2]}
        {"timestamp": 40, "input_length": 700, "output_length": 6, "hash_ids": [1, 3]}
        {"timestamp": 90, "input_length": 50, "output_length": 7, "hash_ids": [4]}
        """

    @Test func theTraceBecomesTheLoad() throws {
        let scenario = try Self.load(
            trace: Self.trace, replay: "{path: trace.jsonl, format: mooncake, speed: 2, limit: 2}")
        guard case .replay(let spec) = scenario.load.shape else {
            Issue.record("not a replay: \(scenario.load.shape)")
            return
        }
        #expect(spec.format == .mooncake && spec.speed == 2 && spec.limit == 2 && spec.path == "trace.jsonl")
        #expect(spec.requests.map(\.inputTokens) == [600, 700])
        #expect(spec.digest == ScenarioDigest.sha256Hex(Self.trace))
        // The trace's end is the run's end.
        #expect(scenario.load.stop == .requests(2))
        #expect(scenario.load.summaryText == "replay mooncake x2 n=2")
        #expect(LoadSpec.isReplay(loadDescription: scenario.load.summaryText))
        // The prompts are made when the run starts (by the runner's builder), one a row.
        #expect(scenario.workload.prompts.isEmpty)
        var builder = WordBlockPrompts()
        let resolved = scenario.withReplayPrompts(builder: &builder)
        #expect(resolved.workload.prompts.map(\.maxTokens) == [5, 6])
        #expect(resolved.workload.prompts.map { $0.user.split(separator: " ").count } == [600, 700])
    }

    @Test func aBadRowNamesTheScenarioKeyAndTheTraceLine() {
        let bad = Self.trace + "\n{\"timestamp\": 80, \"input_length\": 50, \"output_length\": 7}\n"
        do {
            _ = try Self.load(trace: bad, replay: "{path: trace.jsonl, format: mooncake}")
            Issue.record("loaded a trace out of order")
        } catch {
            #expect(error.kind == .referencedFile)
            #expect(error.line == 6 && error.keyPath == "load.replay.path")
            #expect(
                error.message
                    == "trace.jsonl:4: expected rows in time order: this row is earlier than line 3 (sort the file by "
                    + "its timestamp)")
        }
    }

    @Test func badSettingsAreScenarioErrors() {
        func message(_ replay: String, _ extra: String = "") -> String? {
            do {
                _ = try Self.load(trace: Self.trace, replay: replay, load: extra)
                return nil
            } catch {
                return error.description.components(separatedBy: ": ").dropFirst().joined(separator: ": ")
            }
        }
        #expect(
            message("{path: trace.jsonl}")
                == "load.replay.format: expected format: one of mooncake, azure, burstgpt, jsonl")
        #expect(
            message("{path: trace.jsonl, format: csv}")?.hasPrefix("load.replay.format: expected one of mooncake")
                == true)
        #expect(
            message("{path: trace.jsonl, format: mooncake, speed: 0}")
                == "load.replay.speed: expected a number > 0 (2.0 replays twice as fast), got '0'")
        #expect(
            message("{path: trace.jsonl, format: mooncake, limit: 0}")?.hasPrefix("load.replay.limit: expected") == true
        )
        #expect(
            message("{path: missing.jsonl, format: mooncake}")?.contains("missing.jsonl: No such file or directory")
                == true)
        #expect(
            message("{path: trace.jsonl, format: mooncake}", "  rate: 5/s")?.hasPrefix(
                "load.rate: cannot be combined with load.replay") == true
                || message("{path: trace.jsonl, format: mooncake}", "  rate: 5/s")?.hasPrefix(
                    "load.replay: cannot be combined with load.rate") == true
        )
        #expect(
            message("{path: trace.jsonl, format: mooncake}", "  max_concurrency: 4")?.hasPrefix(
                "load.max_concurrency: only applies") == true)
        #expect(
            message("{path: trace.jsonl, format: mooncake}", "  warmup: 3")?.hasPrefix(
                "load.warmup: expected fewer warmup requests than the trace's 3 rows") == true)
    }

    /// Two runs measured the same workload only when the trace's bytes, the speed and the limit agree.
    @Test func theHashCoversTheTracesBytesSpeedAndLimit() throws {
        let base = try Self.load(trace: Self.trace, replay: "{path: trace.jsonl, format: mooncake}").hash
        #expect(
            try Self.load(trace: Self.trace, replay: "{path: trace.jsonl, format: mooncake, speed: 1.0}").hash == base)
        #expect(
            try Self.load(trace: Self.trace, replay: "{path: trace.jsonl, format: mooncake, speed: 2}").hash != base)
        #expect(
            try Self.load(trace: Self.trace, replay: "{path: trace.jsonl, format: mooncake, limit: 2}").hash != base)
        let changed = Self.trace.replacingOccurrences(of: "\"timestamp\": 90", with: "\"timestamp\": 91")
        #expect(try Self.load(trace: changed, replay: "{path: trace.jsonl, format: mooncake}").hash != base)
    }

    @Test func theShippedExampleReplaysItsSample() throws {
        let document = try ScenarioFilesTests.load("scenarios/replay-mooncake.yml")
        let run = try #require(document.runs.first)
        guard case .replay(let spec) = run.load.shape else {
            Issue.record("not a replay")
            return
        }
        #expect(spec.requests.count == 40 && spec.format == .mooncake && spec.speed == 1)
        #expect(run.load.stop == .requests(40))
        // A few dozen rows that share leading blocks.
        let leading = Dictionary(grouping: spec.requests.compactMap(\.hashIDs.first), by: { $0 })
        #expect(leading.values.contains { $0.count >= 10 })
        #expect(spec.requests.allSatisfy { ($0.inputTokens + 511) / 512 == $0.hashIDs.count })
    }
}
