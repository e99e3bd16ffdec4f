import Foundation
import LLMPerfCore
import LLMPerfStore
import Testing

/// `workload.tokenizer: default` against the bundled server's transformer engine on the default model (release
/// build): every synthetic prompt's `usage.prompt_tokens` is exactly the length its plan drew, shared prefixes
/// included. The completions API is used on purpose: it encodes the prompt text alone (no chat template), and the
/// default model adds no BOS token, so the server's count is the text's count with nothing added.
@Suite(.serialized) struct ExactPromptLengthTests {
    @Test func promptTokensAreExactlyTheLengthsAsked() throws {
        let binary = try LLMPerfProcess.releaseBinary()
        let ws = try Workspace()
        defer { ws.remove() }
        let yaml = """
            version: 1
            name: exact-lengths
            target: { backend: local, engine: transformer, model: default, api: openai-completions }
            workload:
              tokenizer: default
              seed: 11
              max_tokens: 1
              temperature: 0
              synthetic: { input_tokens: { mean: 90, stddev: 50 }, shared_prefix_tokens: 24, prefix_groups: 2, count: 6 }
            load: { concurrency: 1, requests: 6, warmup: 0 }
            """
        let path = try ws.write("exact.yml", yaml)
        let result = try LLMPerfProcess.run(["run", path, "--db", ws.database], binary: binary, timeout: 300)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("tokens counted by default (SmolLM2-135M-Instruct.Q4_1.gguf)"))
        var spec = SyntheticPromptSpec(inputTokensMean: 90, inputTokensStddev: 50, count: 6)
        spec.sharedPrefixTokens = 24
        spec.prefixGroups = 2
        let plan = SyntheticPromptGenerator.plan(for: spec, seed: 11)
        #expect(Set(plan.map(\.tokens)).count >= 4, "several lengths: \(plan)")
        let store = try RunStore(path: ws.database)
        let run = try #require(try store.listRuns().first)
        let traces = try store.traces(runID: run.id)
        #expect(traces.count == 6)
        for trace in traces {
            #expect(trace.succeeded, "\(trace.outcome)")
            #expect(
                trace.usage?.promptTokens == plan[trace.promptIndex].tokens,
                "prompt \(trace.promptIndex): asked \(plan[trace.promptIndex].tokens)")
        }
    }
}
