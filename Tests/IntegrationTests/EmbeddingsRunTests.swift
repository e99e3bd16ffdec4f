import Foundation
import LLMPerfCore
import LLMPerfStore
import Testing

/// `api: openai-embeddings` through the built executable against the bundled server's `/v1/embeddings`
/// (synthetic engine): one input and batches of four, each answer checked and stored with no content chunk,
/// its input tokens the server's count (a batch's the sum of its inputs'), its latency the server's own
/// (arrival to the answer's send, from its trace) give or take the loopback; then a fault and a wrong key
/// recorded as their statuses. Every run exits 0: failures are data.
@Suite(.serialized) struct EmbeddingsRunTests {
    @Test func batchesAreMeasuredByLatencyAndInputTokens() throws {
        let (runs, server) = try AnthropicRunTests.run(
            """
            version: 1
            name: embeddings
            target:
              backend: local
              engine: synthetic
              api: openai-embeddings
            workload:
              prompts: ["one two three", "four five six seven eight", "nine", "ten eleven"]
            load: { concurrency: 2, requests: 8, warmup: 0 }
            variants:
              single: { target: { options: { trace-file: "TRACE-single" } } }
              batch: { workload: { batch: 4 }, target: { options: { trace-file: "TRACE-batch" } } }
              fault: { target: { options: { fault: http_500 } } }
              wrong-key: { target: { headers: { Authorization: "Bearer wrong" }, options: { api-key: "right-key" } } }
            """)
        let single = try #require(runs["single"]).traces
        let batch = try #require(runs["batch"])
        #expect(single.count == 8 && batch.traces.count == 8)
        var tokensOfPrompt: [Int: Int] = [:]
        for trace in single {
            #expect(trace.succeeded, "\(trace.outcome)")
            #expect(trace.chunkAtNanos.isEmpty && trace.outputTokens == 0 && trace.outputTokenSource == .usage)
            #expect(trace.outputText.hasPrefix("1 embedding × "), "\(trace.outputText)")
            tokensOfPrompt[trace.promptIndex] = try #require(trace.inputTokens)
        }
        #expect(tokensOfPrompt.count == 4 && tokensOfPrompt.values.allSatisfy { $0 > 0 })
        let batchTrace = try #require(server["batch"])
        var excess: [Double] = []
        for trace in batch.traces {
            #expect(trace.succeeded, "\(trace.outcome)")
            #expect(trace.outputText.hasPrefix("4 embeddings × "), "\(trace.outputText)")
            // The server counted the four inputs the request carried: this prompt's and the next three's.
            let expected = (0..<4).map { tokensOfPrompt[(trace.promptIndex + $0) % 4] ?? -1 }.reduce(0, +)
            #expect(trace.inputTokens == expected, "prompt \(trace.promptIndex)")
            #expect(Metric.ttft.value(of: trace) == nil && Metric.e2e.value(of: trace) == nil)
            let request = try #require(batchTrace.requests["llmperf-\(batch.id)-\(trace.index)"])
            let arrival = try #require(request.arrivalNanos)
            let answered = try #require(request.responseNanos, "no response event in the server trace")
            let serverLatency = Double(answered - arrival) / 1e6
            let total = try #require(Metric.total.value(of: trace))
            #expect(total >= serverLatency, "client \(total) ms, server \(serverLatency) ms")
            excess.append(total - serverLatency)
        }
        // What the client adds (the way there and back, on loopback) is small for the typical request: the
        // median, since one request's excess is also whatever the busy machine did to either process then.
        let medianExcess = excess.sorted()[excess.count / 2]
        #expect(medianExcess < 5, "the client's total exceeds the server's latency by \(excess.sorted()) ms")
        let summary = RunSummary(traces: batch.traces)
        #expect(summary.outputTokensPerSecond == 0 && summary.inputTokensPerSecond > 0)
        let fault = try #require(runs["fault"]).traces
        #expect(fault.count == 8 && fault.allSatisfy { $0.outcome.failureKind == .http(status: 500) })
        let wrongKey = try #require(runs["wrong-key"]).traces
        #expect(wrongKey.count == 8 && wrongKey.allSatisfy { $0.outcome.failureKind == .http(status: 401) })
    }
}
