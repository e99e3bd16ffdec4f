import Foundation
import LLMPerfCore
import LLMPerfStore
import Testing

/// `api: ollama` and `api: ollama-generate` through the built executable against the bundled server's
/// `/api/chat` and `/api/generate` (a local backend: the base URL is the server root, not `/v1`): the same
/// numbers as the OpenAI dialect on the same synthetic server, and the failures recorded as their kinds.
/// Every run exits 0: failures are data.
@Suite(.serialized) struct OllamaRunTests {
    @Test func theSameServerMeasuresTheSameThroughEitherDialect() throws {
        let (runs, server) = try AnthropicRunTests.run(
            """
            version: 1
            name: dialects
            target:
              backend: local
              engine: synthetic
              options: { ttft-ms: 20, itl-ms: 5, reasoning-tokens: 8 }
            workload:
              prompts: ["Think, then answer."]
              max_tokens: 24
            load: { concurrency: 1, requests: 3, warmup: 0 }
            variants:
              openai: { target: { api: openai-chat, options: { trace-file: "TRACE-openai" } } }
              ollama:
                target: { api: ollama, options: { trace-file: "TRACE-ollama" } }
                workload: { reasoning: {} }
            """)
        let openAIRun = try #require(runs["openai"])
        let ollamaRun = try #require(runs["ollama"])
        let openAI = openAIRun.traces
        let ollama = ollamaRun.traces
        let openAITrace = try #require(server["openai"])
        let ollamaTrace = try #require(server["ollama"])
        #expect(openAI.count == 3 && ollama.count == 3)
        var differences: [String: [Double]] = [:]
        for (o, l) in zip(openAI, ollama) {
            #expect(o.succeeded && l.succeeded, "\(o.outcome) \(l.outcome)")
            #expect(o.chunkAtNanos.count == 24 && l.chunkAtNanos.count == 24)
            #expect(o.chunkReasoning == l.chunkReasoning)
            #expect(l.chunkReasoning == Array(repeating: true, count: 8) + Array(repeating: false, count: 16))
            #expect(o.outputTokens == 24 && l.outputTokens == 24)
            #expect(o.reasoningTokens == 8 && l.reasoningTokens == 8)
            // Ollama reports no reasoning count: the thinking lines were counted.
            #expect(o.usage?.reasoningTokens == 8 && l.usage?.reasoningTokens == nil)
            #expect(l.usage?.completionTokens == 24 && l.usage?.promptTokens == o.usage?.promptTokens)
            // The gap from the first token to the first answer token is the server's own, give or take the
            // delivery of two lines (typically: see `typicalDifference`), through either dialect (see
            // AnthropicRunTests for the deadline check).
            for (trace, runID, serverTrace) in [(o, openAIRun.id, openAITrace), (l, ollamaRun.id, ollamaTrace)] {
                let gap = try #require(Metric.ttfa.value(of: trace)) - (try #require(Metric.ttft.value(of: trace)))
                let request = try #require(serverTrace.requests["llmperf-\(runID)-\(trace.index)"])
                let sent = request.tokenNanos
                #expect(sent.count == 24)
                #expect(sent[8] >= (try #require(request.arrivalNanos)) + (20 + 8 * 5) * 1_000_000)
                let serverGap = Double(sent[8] - sent[0]) / 1e6
                differences[runID, default: []].append(gap - serverGap)
            }
            #expect(Metric.usageDiff.value(of: l) == 0 && Metric.usageDiff.value(of: o) == 0)
            // The server's own durations, stored with the request: Ollama's lie
            // inside what the client measured, and ttft-ms 20 paces the prompt.
            // (The OpenAI dialect now reads the bundled server's `timings` too: its phases, which add up to its total.)
            let phases = try #require(o.serverTimings, "the OpenAI dialect stored no timings")
            let parts = [
                phases.preprocessNanos, phases.queueNanos, phases.promptNanos, phases.generationNanos,
                phases.postprocessNanos,
            ].compactMap { $0 }
            #expect(parts.count == 5 && abs(Double(parts.reduce(0, +)) - Double(phases.totalNanos ?? 0)) <= 5_000)
            let timings = try #require(l.serverTimings, "no server timings stored")
            #expect(timings.loadNanos == 0)
            let prompt = try #require(Metric.serverPrompt.value(of: l))
            let generation = try #require(Metric.serverGeneration.value(of: l))
            let serverTotal = try #require(Metric.serverTotal.value(of: l))
            let ttft = try #require(Metric.ttft.value(of: l))
            let total = try #require(Metric.total.value(of: l))
            #expect(prompt >= 20 && prompt <= ttft, "server prompt \(prompt) ms, client ttft \(ttft) ms")
            // The last token's deadline: 20 ms, then 23 gaps of 5 ms, after the arrival.
            #expect(prompt + generation >= 20 + 23 * 5, "server prompt + generation \(prompt + generation) ms")
            // The server's parts add up to its total: compared in its own whole nanoseconds, since the sum of
            // two millisecond Doubles can round a hair past the third.
            let promptNanos = try #require(timings.promptNanos)
            let generationNanos = try #require(timings.generationNanos)
            let totalNanos = try #require(timings.totalNanos)
            #expect(promptNanos + generationNanos <= totalNanos, "\(promptNanos) + \(generationNanos) > \(totalNanos)")
            #expect(serverTotal <= total, "server \(serverTotal), client \(total)")
        }
        for (runID, values) in differences {
            #expect(typicalDifference(values) < 2.5, "\(runID): client gap − server gap \(values) ms")
        }
    }

    @Test func generateNonStreamedAndFailuresAreRecordedAsTheirKinds() throws {
        let (runs, _) = try AnthropicRunTests.run(
            """
            version: 1
            name: ollama-kinds
            target:
              backend: local
              engine: synthetic
              api: ollama
              options: { ttft-ms: 5, itl-ms: 2 }
            workload:
              prompts: ["hi"]
              max_tokens: 6
            load: { concurrency: 1, requests: 2, warmup: 0 }
            variants:
              generate: { target: { api: ollama-generate } }
              whole: { workload: { stream: false } }
              limited: { target: { options: { fault: http_429 } } }
              no-done: { target: { options: { fault: no_done } } }
              reset: { target: { options: { fault: reset_mid_stream, fault-after: 3 } } }
            """)
        let generate = try #require(runs["generate"]).traces
        #expect(generate.count == 2)
        for trace in generate {
            #expect(trace.succeeded, "\(trace.outcome)")
            #expect(trace.chunkAtNanos.count == 6 && trace.usage?.completionTokens == 6)
            #expect(Metric.usageDiff.value(of: trace) == 0)
        }
        for trace in try #require(runs["whole"]).traces {
            #expect(trace.succeeded, "\(trace.outcome)")
            #expect(trace.chunkTokens == [6] && trace.usage?.completionTokens == 6)
        }
        for trace in try #require(runs["limited"]).traces {
            #expect(trace.outcome.failureKind == .http(status: 429), "\(trace.outcome)")
            #expect(trace.outcome.detail.contains("{\"error\":\"Rate limit reached"), "\(trace.outcome.detail)")
        }
        for trace in try #require(runs["no-done"]).traces {
            #expect(trace.outcome.failureKind == .streamCut, "\(trace.outcome)")
            #expect(trace.chunkAtNanos.count == 6)
        }
        for trace in try #require(runs["reset"]).traces {
            #expect(trace.outcome.failureKind == .streamCut, "\(trace.outcome)")
            #expect(trace.chunkAtNanos.count == 3)
        }
    }
}
