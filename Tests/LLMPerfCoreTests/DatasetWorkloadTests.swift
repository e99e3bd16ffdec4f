import Foundation
import Testing

@testable import LLMPerfCore

/// `workload.dataset` in a scenario: the prompts and scripts it resolves to, seeded sampling, the
/// recorded output lengths, the scenario hash, and the rules that refuse what it cannot mean.
@Suite("Dataset workload")
struct DatasetWorkloadTests {
    /// Eight ShareGPT conversations: c0…c7, c2 and c5 two turns long, c3 with no answer, c6 with a system.
    static let shareGPT: String = {
        var lines: [String] = []
        for index in 0..<8 {
            var turns = [#"{"from": "human", "value": "c\#(index) first"}"#]
            if index == 6 { turns.insert(#"{"from": "system", "value": "sys6"}"#, at: 0) }
            if index != 3 {
                turns.append(
                    #"{"from": "gpt", "value": "\#(Array(repeating: "w", count: index + 1).joined(separator: " "))"}"#)
            }
            if index == 2 || index == 5 {
                turns.append(#"{"from": "human", "value": "c\#(index) second"}"#)
                turns.append(#"{"from": "gpt", "value": "a b c d e f"}"#)
            }
            lines.append(#"{"conversations": [\#(turns.joined(separator: ", "))]}"#)
        }
        return lines.joined(separator: "\n") + "\n"
    }()

    /// A scenario in a fresh directory next to `data/chats.jsonl`.
    static func load(dataset: String, workload extra: String = "", data: String = shareGPT) throws(ScenarioError)
        -> Scenario
    {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "llmperf-dataset-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(
            at: directory.appendingPathComponent("data"), withIntermediateDirectories: true)
        try? Data(data.utf8).write(to: directory.appendingPathComponent("data/chats.jsonl"))
        let yaml = """
            version: 1
            name: d
            target: { backend: local }
            workload:
              dataset: \(dataset)
              seed: 3
            \(extra)
            load: { concurrency: 1, requests: 4 }
            """
        let path = directory.appendingPathComponent("scenario.yml").path
        return try ScenarioLoader.load(yaml: yaml, path: path, environment: [:]).runs[0]
    }

    static func error(dataset: String, workload extra: String = "") -> String {
        do {
            _ = try load(dataset: dataset, workload: extra)
            return "no error"
        } catch {
            // Without the temporary directory.
            return error.description.replacingOccurrences(
                of: #"^.*/scenario\.yml"#, with: "scenario.yml", options: .regularExpression)
        }
    }

    @Test func firstTurnsInFileOrderWithSystemsAndRecordedLengths() throws {
        let scenario = try Self.load(
            dataset: "{path: data/chats.jsonl, format: sharegpt, output_tokens: from_dataset}",
            workload: "  system: Default system.")
        let workload = scenario.workload
        // c3 has no recorded answer: skipped and counted.
        #expect(
            workload.prompts.map(\.user) == [
                "c0 first", "c1 first", "c2 first", "c4 first", "c5 first", "c6 first", "c7 first",
            ])
        #expect(workload.prompts.map(\.maxTokens) == [1, 3, 4, 7, 8, 9, 11])
        #expect(workload.prompts[5].system == "sys6")
        #expect(workload.prompts[0].system == "Default system.")
        #expect(workload.sessionScripts.isEmpty)
        let dataset = try #require(workload.dataset)
        #expect(dataset.conversationCount == 8 && dataset.usedCount == 7)
        #expect(
            dataset.skipped == [
                DatasetSkip(
                    reason: "conversations whose first user turn has no recorded answer", count: 1, firstLine: 4)
            ])
        #expect(
            dataset.summaryText
                == "dataset data/chats.jsonl: 8 conversations, 7 used, 1 skipped (conversations whose first user "
                + "turn has no recorded answer: 1, first at line 4)")
        // A prompt with its own length asks for it with ignore_eos.
        #expect(workload.maxTokens(for: workload.prompts[0]) == 1)
        #expect(workload.sendsIgnoreEOS(for: workload.prompts[0]))
    }

    @Test func withoutOutputTokensEveryConversationIsKeptAndNoLengthIsSet() throws {
        let workload = try Self.load(dataset: "{path: data/chats.jsonl, format: sharegpt}").workload
        #expect(workload.prompts.count == 8)
        #expect(workload.prompts.allSatisfy { $0.maxTokens == nil })
    }

    @Test func seededSamplingIsReproducibleAndDiffersWithTheSeed() throws {
        func users(_ seed: Int?) throws -> [String] {
            let seedText = seed.map { ", seed: \($0)" } ?? ""
            return try Self.load(dataset: "{path: data/chats.jsonl, format: sharegpt, sample: 5\(seedText)}")
                .workload.prompts.map(\.user)
        }
        let seven = try users(7)
        #expect(seven.count == 5)
        #expect(Set(seven).count == 5)
        #expect(try users(7) == seven)
        #expect(try users(8) != seven)
        // The default seed is the workload's (3).
        #expect(try users(nil) == users(3))
        #expect(try users(nil) != seven)
        // The exact draw for seed 7, so a change to the sampler shows.
        #expect(seven == ["c0 first", "c4 first", "c7 first", "c6 first", "c5 first"])
    }

    @Test func aSampleLargerThanTheDatasetIsAnError() {
        #expect(
            Self.error(dataset: "{path: data/chats.jsonl, format: sharegpt, sample: 9}").hasSuffix(
                "data/chats.jsonl: sample: 9 is more than the 8 usable conversations (8 in the file, 0 skipped); "
                    + "lower sample or leave it out to use them all"))
        #expect(
            Self.error(dataset: "{path: data/chats.jsonl, format: sharegpt, sample: 9}").hasPrefix("scenario.yml:5:"))
    }

    @Test func allTurnsBecomeSessionScripts() throws {
        let workload = try Self.load(
            dataset: "{path: data/chats.jsonl, format: sharegpt, turns: all, output_tokens: from_dataset}",
            workload: "  sessions: {turns: from_dataset}"
        ).workload
        #expect(workload.sessionScripts.count == 7)
        #expect(
            workload.sessionScripts[2]
                == [Prompt(user: "c2 first", maxTokens: 4), Prompt(user: "c2 second", maxTokens: 8)])
        #expect(workload.prompts[2] == Prompt(user: "c2 first", maxTokens: 4))
        let plan = try #require(workload.sessionPlan)
        #expect(plan.turnCount(session: 2) == 2)
        #expect(plan.prompt(session: 2, turn: 1, prompts: workload.prompts).user == "c2 second")
        // turns defaults to all under sessions.turns: from_dataset.
        let implied = try Self.load(
            dataset: "{path: data/chats.jsonl, format: sharegpt}", workload: "  sessions: {turns: from_dataset}"
        ).workload
        #expect(implied.sessionScripts.count == 8)
    }

    @Test func rulesThatRefuseWhatADatasetCannotMean() {
        #expect(
            Self.error(dataset: "{path: data/chats.jsonl, format: sharegpt, turns: all}")
                == "scenario.yml:5:62: workload.dataset.turns: turns: all replays each conversation as a multi-turn "
                + "session: add workload.sessions: {turns: from_dataset}, or use turns: first")
        #expect(
            Self.error(dataset: "{path: data/chats.jsonl, format: jsonl, turns: all}").contains(
                "a jsonl dataset holds one prompt per record; turns: all needs sharegpt or openai-chat"))
        #expect(
            Self.error(dataset: "{path: data/chats.jsonl, format: sharegpt}", workload: "  prompts: [hi]")
                == "scenario.yml:7:3: workload.prompts: cannot be combined with workload.dataset: a run's prompts "
                + "come from one source")
        #expect(
            Self.error(dataset: "{path: data/chats.jsonl, format: sharegpt, prompt_column: q}").contains(
                "workload.dataset.prompt_column: applies to format: csv only"))
        #expect(
            Self.error(dataset: "{path: data/chats.jsonl, format: shargpt}").contains(
                "expected one of sharegpt, openai-chat, jsonl, csv, got 'shargpt'; did you mean 'sharegpt'?"))
        let wrongFormat = Self.error(dataset: "{path: data/chats.jsonl, format: openai-chat}")
        #expect(wrongFormat.hasPrefix("scenario.yml:5:19: workload.dataset.path: /"))
        #expect(
            wrongFormat.hasSuffix(
                "/data/chats.jsonl:1:1: expected an object with \"messages\", got an object with \"conversations\""))
    }

    @Test func theHashFollowsTheFileAndTheSelection() throws {
        let dataset = "{path: data/chats.jsonl, format: sharegpt, sample: 4, seed: 1}"
        let base = try Self.load(dataset: dataset)
        #expect(try Self.load(dataset: dataset).hash == base.hash)
        // Same prompts' source, other bytes: another workload.
        #expect(try Self.load(dataset: dataset, data: Self.shareGPT + "\n").hash != base.hash)
        #expect(
            try Self.load(dataset: "{path: data/chats.jsonl, format: sharegpt, sample: 4, seed: 2}").hash != base.hash)
        #expect(
            try Self.load(dataset: "{path: data/chats.jsonl, format: sharegpt, sample: 5, seed: 1}").hash != base.hash)
        let canonical = ScenarioCanonicalForm.render(base)
        #expect(canonical.contains("workload.dataset.sha256=\(ScenarioDigest.sha256Hex(Self.shareGPT))\n"))
        #expect(
            canonical.contains("workload.dataset.sample=4\nworkload.dataset.seed=1\nworkload.dataset.turns=first\n"))
        #expect(!canonical.contains("workload.prompt="))
    }

    @Test func theShippedScenarioSendsTenOfTheSampleConversations() throws {
        let run = try #require(try ScenarioFilesTests.load("scenarios/sharegpt.yml").runs.first)
        let dataset = try #require(run.workload.dataset)
        #expect(run.workload.prompts.count == 10)
        #expect(run.workload.prompts.allSatisfy { ($0.maxTokens ?? 0) >= 1 })
        #expect(dataset.conversationCount == 13 && dataset.usedCount == 10)
        #expect(dataset.skipped == [DatasetSkip(reason: "empty conversations", count: 1, firstLine: 125)])
        #expect(run.target.backend?.engine == "synthetic")
    }

    /// The bundled samples load in every format and agree on their first prompt.
    @Test(arguments: [
        ("sharegpt.json", "sharegpt"), ("openai-chat.jsonl", "openai-chat"), ("prompts.jsonl", "jsonl"),
        ("prompts.csv", "csv"),
    ])
    func theBundledSamplesLoad(_ file: String, _ format: String) throws {
        let root = ScenarioFilesTests.repositoryRoot.path
        let yaml = """
            version: 1
            name: sample
            target: { backend: local }
            workload:
              dataset: {path: datasets/\(file), format: \(format), output_tokens: from_dataset}
            load: { concurrency: 1, requests: 1 }
            """
        let workload = try ScenarioLoader.load(yaml: yaml, path: root + "/sample.yml", environment: [:]).runs[0]
            .workload
        #expect(workload.prompts.count >= 12)
        #expect(workload.prompts[0].user == "What does time to first token measure?")
        #expect(workload.prompts.allSatisfy { ($0.maxTokens ?? 0) >= 1 })
    }
}
