import Foundation
import Testing

@testable import LLMPerfCore

/// `api: openai-embeddings`: `workload.batch`, no streaming by default, and the generation settings it
/// refuses with the reason; `batch` is refused on every other API.
@Suite struct EmbeddingsWorkloadTests {
    static func load(_ workload: String, api: String = "openai-embeddings") throws(ScenarioError) -> Scenario {
        try ToolsAndReasoningWorkloadTests.load(workload, api: api)
    }

    @Test func batchIsReadAndTheAnswerIsNotStreamed() throws {
        let run = try Self.load("  batch: 16")
        #expect(run.target.api == .openAIEmbeddings && run.workload.batch == 16 && !run.workload.stream)
        #expect(run.target.endpointURL(base: "http://127.0.0.1:9/v1") == "http://127.0.0.1:9/v1/embeddings")
        let single = try Self.load("  stream: false")
        #expect(single.workload.batch == 1 && !single.workload.stream)
        // batch is part of the scenario hash, and leaves a scenario without it as it was.
        #expect(single.hash != run.hash)
        #expect(try Self.load("").hash == single.hash)
    }

    @Test(arguments: [
        ("  batch: 4", "openai-chat", "workload.batch", "only target.api openai-embeddings takes it, not openai-chat"),
        ("  batch: 0", "openai-embeddings", "workload.batch", "expected a whole number > 0, got '0'"),
        ("  batch: 2049", "openai-embeddings", "workload.batch", "expected a whole number from 1 to 2048, got '2049'"),
        ("  stream: true", "openai-embeddings", "workload.stream", "does not stream"),
        ("  max_tokens: 8", "openai-embeddings", "workload.max_tokens", "generates no tokens, so it has no max_tokens"),
        ("  temperature: 0", "openai-embeddings", "workload.temperature", "has no temperature"),
        ("  include_usage: true", "openai-embeddings", "workload.include_usage", "has no include_usage"),
        ("  reasoning: {effort: low}", "openai-embeddings", "workload.reasoning", "has no such field"),
    ])
    func refusedSettingsNameTheKeyAndTheReason(workload: String, api: String, keyPath: String, message: String) {
        #expect {
            try Self.load(workload, api: api)
        } throws: { error in
            guard let error = error as? ScenarioError else { return false }
            return error.keyPath == keyPath && error.message.contains(message)
        }
    }

    @Test func aBatchTakesThePromptsFromItsIndexOnWrapping() {
        var workload = WorkloadSpec(prompts: ["a", "b", "c"].map { Prompt(user: $0) })
        workload.batch = 2
        #expect(workload.batchPrompts(startingAt: 2).map(\.user) == ["c", "a"])
        workload.batch = 5
        #expect(workload.batchPrompts(startingAt: 1).map(\.user) == ["b", "c", "a", "b", "c"])
    }
}

/// Runs that generated nothing (embeddings) are compared by `total` and input tokens/s; generating runs
/// keep their rows.
@Suite struct EmbeddingsComparisonTests {
    static func traces(latencyMs: UInt64, count: Int = 30) -> [RequestTrace] {
        (0..<count).map { i in
            let start = UInt64(i) * 100_000_000
            return RequestTrace(
                index: i, startedAtNanos: start, endedAtNanos: start + latencyMs * 1_000_000,
                usage: TokenUsage(promptTokens: 64, completionTokens: 0))
        }
    }

    @Test func totalAndInputTokensPerSecondAreCompared() throws {
        let comparison = try RunComparison(runs: [
            .init(label: "batch-1", traces: Self.traces(latencyMs: 5)),
            .init(label: "batch-8", traces: Self.traces(latencyMs: 9)),
        ])
        let rows = try #require(comparison.comparisons.first).rows
        #expect(rows.first?.measure == .metric(.total))
        let total = try #require(rows.first)
        #expect(total.baseline.p50 == 5 && total.candidate.p50 == 9)
        #expect(rows.contains { $0.measure == .inputTokensPerSecond })
        #expect(!rows.contains { $0.measure == .metric(.ttft) && $0.baseline.p50 != nil })
        // A generating run gets neither extra row.
        var chat = Self.traces(latencyMs: 5)
        for i in chat.indices {
            chat[i].chunkAtNanos = [chat[i].startedAtNanos + 1_000_000]
            chat[i].chunkTokens = [1]
            chat[i].usage = TokenUsage(promptTokens: 64, completionTokens: 1)
        }
        let plain = try RunComparison(runs: [.init(label: "a", traces: chat), .init(label: "b", traces: chat)])
        let plainRows = try #require(plain.comparisons.first).rows
        #expect(!plainRows.contains { $0.measure == .metric(.total) || $0.measure == .inputTokensPerSecond })
    }
}
