import Foundation
import LLMPerfCore
import LLMTokenizer
import Testing

@testable import LLMPerfRunner

/// Synthetic prompts rewritten to exact token lengths with a tokenizer (`RunTokenizer`, `ExactSyntheticPrompts`),
/// on the project's small `tokenizer.json` fixture.
@Suite struct ExactSyntheticPromptsTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("LLMTokenizerTests/Fixtures/tiny-bpe-tokenizer.json").path

    static func loaded() throws -> RunTokenizer { try #require(try RunTokenizer.load(.file(fixture))) }

    @Test func everyPromptHasItsPlannedLengthAndItsGroupsPrefix() throws {
        let tokenizer = try Self.loaded()
        #expect(tokenizer.description == "tiny-bpe-tokenizer.json")
        var spec = SyntheticPromptSpec(inputTokensMean: 60, inputTokensStddev: 20, count: 40)
        spec.sharedPrefixTokens = 16
        spec.prefixGroups = 3
        let plan = SyntheticPromptGenerator.plan(for: spec, seed: 9)
        let texts = try ExactSyntheticPrompts.texts(for: spec, seed: 9, text: tokenizer.text)
        #expect(texts == (try ExactSyntheticPrompts.texts(for: spec, seed: 9, text: tokenizer.text)))
        var prefixes: [Int: String] = [:]
        for (text, planned) in zip(texts, plan) {
            let ids = tokenizer.tokenizer.encode(text, addSpecial: false)
            #expect(ids.count == planned.tokens)
            let prefix = tokenizer.tokenizer.decode(Array(ids.prefix(16)))
            #expect(text.hasPrefix(prefix))
            let group = try #require(planned.group)
            #expect(prefixes[group, default: prefix] == prefix, "group \(group)")
            prefixes[group] = prefix
        }
        #expect(Set(prefixes.values).count == 3)
    }

    @Test func theWorkloadKeepsItsSystemTextAndOtherPrompts() throws {
        let tokenizer = try Self.loaded()
        var workload = WorkloadSpec(prompts: [Prompt(user: "written"), Prompt(system: "terse", user: "a b c")])
        workload.synthetic = SyntheticPromptSpec(inputTokensMean: 33, count: 1)
        workload.syntheticPromptIndices = 1..<2
        workload.seed = 4
        try tokenizer.applyExactLengths(to: &workload)
        #expect(workload.prompts[0] == Prompt(user: "written"))
        #expect(workload.prompts[1].system == "terse")
        #expect(tokenizer.tokenizer.encode(workload.prompts[1].user, addSpecial: false).count == 33)
    }

    @Test func wordsLoadNothingAndABadFileSaysWhich() throws {
        #expect(try RunTokenizer.load(.words) == nil)
        do {
            _ = try RunTokenizer.load(.file("/nonexistent/tokenizer.json"))
            Issue.record("a missing file loaded")
        } catch let error as CLIError {
            #expect(error.message.contains("/nonexistent/tokenizer.json"))
        }
        do {
            _ = try RunTokenizer.load(.bundledDefault, environment: ["LLMPERF_CACHE": "/nonexistent-cache"])
            Issue.record("a missing default model loaded")
        } catch let error as CLIError {
            #expect(error.message.contains("scripts/fetch-model"))
        }
    }
}
