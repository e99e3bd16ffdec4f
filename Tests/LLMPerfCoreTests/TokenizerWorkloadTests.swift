import Foundation
import Testing

@testable import LLMPerfCore

/// `workload.tokenizer` and `synthetic.shared_prefix_tokens` / `prefix_groups`: what they load into, their
/// positioned errors, the word-approximation prompts with shared prefixes, and the scenario hash.
@Suite struct TokenizerWorkloadTests {
    static func workload(_ body: String, path: String = "scenarios/x.yml") throws -> WorkloadSpec {
        let yaml =
            "version: 1\nname: x\ntarget: { backend: local }\nworkload:\n\(body)\nload: { concurrency: 1, requests: 2 }\n"
        return try #require(try ScenarioLoader.load(yaml: yaml, path: path, environment: [:]).runs.first).workload
    }

    static func message(_ body: String) -> String? {
        do {
            _ = try workload(body)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func tokenizerChoices() throws {
        #expect(try Self.workload("  prompts: [a]").tokenizer == .words)
        #expect(try Self.workload("  prompts: [a]\n  tokenizer: words").tokenizer == .words)
        #expect(try Self.workload("  prompts: [a]\n  tokenizer: default").tokenizer == .bundledDefault)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try "{}".write(to: directory.appendingPathComponent("tokenizer.json"), atomically: true, encoding: .utf8)
        let loaded = try Self.workload(
            "  prompts: [a]\n  tokenizer: tokenizer.json", path: directory.appendingPathComponent("s.yml").path)
        #expect(loaded.tokenizer == .file(directory.appendingPathComponent("tokenizer.json").path))
    }

    @Test func tokenizerErrorsArePositioned() {
        #expect(
            Self.message("  prompts: [a]\n  tokenizer: bert.txt")
                == "scenarios/x.yml:6:14: workload.tokenizer: expected default, words, or the path of a .gguf model "
                + "or a tokenizer.json, got 'bert.txt'")
        #expect(
            Self.message("  prompts: [a]\n  tokenizer: missing/tokenizer.json")
                == "scenarios/x.yml:6:14: workload.tokenizer: tokenizer file not found: scenarios/missing/tokenizer.json"
        )
    }

    @Test func sharedPrefixKeysLoad() throws {
        let spec = try #require(
            try Self.workload(
                "  synthetic: { input_tokens: { mean: 100, stddev: 10 }, shared_prefix_tokens: 40, prefix_groups: 3 }"
            ).synthetic)
        #expect(spec.sharedPrefixTokens == 40)
        #expect(spec.prefixGroups == 3)
        #expect(
            Self.message("  synthetic: { input_tokens: 40, shared_prefix_tokens: 40 }")
                == "scenarios/x.yml:5:56: workload.synthetic.shared_prefix_tokens: the prefix is part of each prompt: "
                + "input_tokens (mean 40) must be more than shared_prefix_tokens (40)")
        #expect(
            Self.message("  synthetic: { input_tokens: 40, prefix_groups: 2 }")
                == "scenarios/x.yml:5:49: workload.synthetic.prefix_groups: prefix_groups needs shared_prefix_tokens "
                + "(how long each group's prefix is)")
    }

    @Test func planDrawsLengthsAndGroupsFromTheSeed() {
        var spec = SyntheticPromptSpec(inputTokensMean: 100, inputTokensStddev: 30, count: 200)
        spec.sharedPrefixTokens = 90
        spec.prefixGroups = 4
        let plan = SyntheticPromptGenerator.plan(for: spec, seed: 3)
        #expect(plan == SyntheticPromptGenerator.plan(for: spec, seed: 3))
        #expect(plan != SyntheticPromptGenerator.plan(for: spec, seed: 4))
        #expect(plan.allSatisfy { $0.tokens >= 91 })
        #expect(plan.contains { $0.tokens == 91 })  // a draw under the prefix and one is lengthened to that
        #expect(Set(plan.compactMap(\.group)) == [0, 1, 2, 3])
        spec.sharedPrefixTokens = 0
        #expect(SyntheticPromptGenerator.plan(for: spec, seed: 3).allSatisfy { $0.group == nil })
    }

    @Test func wordPromptsShareTheirGroupsPrefix() throws {
        let workload = try Self.workload(
            "  seed: 5\n  synthetic: { input_tokens: 80, shared_prefix_tokens: 40, prefix_groups: 2, count: 12 }")
        var spec = try #require(workload.synthetic)
        let plan = SyntheticPromptGenerator.plan(for: spec, seed: 5)
        let prefixWords = 30  // 40 tokens at 0.75 words a token
        var prefixes: [Int: String] = [:]
        for (prompt, planned) in zip(workload.prompts, plan) {
            let words = prompt.user.split(separator: " ")
            #expect(words.count == 30 + 30)
            let prefix = words.prefix(prefixWords).joined(separator: " ")
            let group = try #require(planned.group)
            #expect(prefixes[group, default: prefix] == prefix)
            prefixes[group] = prefix
        }
        #expect(prefixes.count == 2 && Set(prefixes.values).count == 2)
        #expect(workload.syntheticPromptIndices == 0..<12)
        spec.sharedPrefixTokens = 0
        // without a prefix the prompts are what they always were
        #expect(
            SyntheticPromptGenerator.prompts(for: SyntheticPromptSpec(inputTokensMean: 100, count: 3), seed: 1).map {
                $0.user.split(separator: " ").count
            } == [75, 75, 75])
    }

    @Test func theTokenizerChoiceChangesTheHash() throws {
        func hash(_ extra: String) throws -> String {
            let yaml = """
                version: 1
                name: x
                target: { backend: local }
                workload:
                  synthetic: { input_tokens: 64 }
                \(extra)
                load: { concurrency: 1, requests: 2 }
                """
            return try #require(try ScenarioLoader.load(yaml: yaml, path: "x.yml", environment: [:]).runs.first).hash
        }
        let absent = try hash("")
        #expect(try hash("  tokenizer: words") == absent)
        #expect(try hash("  tokenizer: default") != absent)
        #expect(try hash("  tokenizer: default") != hash("  tokenizer: default\n  seed: 2"))
    }
}
