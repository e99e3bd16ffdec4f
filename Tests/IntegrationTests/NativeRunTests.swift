import Foundation
import LLMPerfCore
import LLMPerfStore
import Testing

/// `api: llamacpp` and `api: tgi` through the built executable against the bundled server's `/completion` and
/// `/generate_stream` (the local backend's root, not `/v1`), compared with `openai-completions` on the same
/// synthetic server: the same chunks and output tokens, counted by the server's usage, usage_diff 0, and a
/// ttft within a few ms of the server trace's first token. Then TGI's `/generate` for a workload that does
/// not stream, and an HTTP fault recorded as its status. Every run exits 0: failures are data.
@Suite(.serialized) struct NativeRunTests {
    @Test func theSameServerMeasuresTheSameThroughEachDialect() throws {
        let (runs, server) = try AnthropicRunTests.run(
            """
            version: 1
            name: native
            target:
              backend: local
              engine: synthetic
              options: { ttft-ms: 20, itl-ms: 5 }
            workload:
              prompts: ["Why is the sky blue?"]
              max_tokens: 24
            load: { concurrency: 1, requests: 3, warmup: 0 }
            variants:
              openai: { target: { api: openai-completions, options: { trace-file: "TRACE-openai" } } }
              llamacpp: { target: { api: llamacpp, options: { trace-file: "TRACE-llamacpp" } } }
              tgi: { target: { api: tgi, options: { trace-file: "TRACE-tgi" } } }
            """)
        let openAI = try #require(runs["openai"]).traces
        #expect(openAI.count == 3)
        var excess: [String: [Double]] = [:]
        for variant in ["llamacpp", "tgi"] {
            let run = try #require(runs[variant], "\(variant) did not run")
            let serverTrace = try #require(server[variant], "no server trace for \(variant)")
            #expect(run.traces.count == 3)
            for (o, n) in zip(openAI, run.traces) {
                #expect(o.succeeded && n.succeeded, "\(variant): \(o.outcome) \(n.outcome)")
                #expect(n.chunkAtNanos.count == 24 && o.chunkAtNanos.count == 24, "\(variant)")
                #expect(n.chunkTokens == o.chunkTokens, "\(variant)")
                #expect(n.outputTokens == 24 && o.outputTokens == 24, "\(variant)")
                #expect(n.outputTokenSource == .usage, "\(variant)")
                #expect(n.inputTokens == 5 && o.inputTokens == 5, "\(variant) \(String(describing: n.inputTokens))")
                #expect(Metric.usageDiff.value(of: n) == 0, "\(variant)")
                #expect(n.outputText == o.outputText, "\(variant)")
                // The client's ttft is the server's own (arrival to the first token's send) plus the request's and
                // the event's trip over loopback.
                let request = try #require(serverTrace.requests["llmperf-\(run.id)-\(n.index)"])
                let sent = request.tokenNanos
                #expect(sent.count == 24, "\(variant)")
                let arrival = try #require(request.arrivalNanos)
                #expect(sent[0] >= arrival + 20_000_000)
                let serverTTFT = Double(sent[0] - arrival) / 1e6
                let ttft = try #require(Metric.ttft.value(of: n))
                // Causally at least the server's (the client started before the server read the request, and
                // received the token after it was sent); typically within 5 ms of it (see `typicalDifference`: the
                // debug client's own work before the request goes out is in the difference too).
                #expect(ttft >= serverTTFT, "\(variant): client \(ttft) ms, server \(serverTTFT) ms")
                excess[variant, default: []].append(ttft - serverTTFT)
                // llama.cpp's timings, stored with the request: inside what the client measured (TGI's stream
                // reports none).
                if variant == "llamacpp" {
                    let prompt = try #require(Metric.serverPrompt.value(of: n), "no server timings stored")
                    let generation = try #require(Metric.serverGeneration.value(of: n))
                    let total = try #require(Metric.total.value(of: n))
                    // The bundled server's prompt_ms is its prefill: with its preprocessing and queue before it,
                    // the 20 ms to the first token.
                    let before =
                        (Metric.serverPreprocess.value(of: n) ?? -1) + (Metric.serverQueue.value(of: n) ?? -1)
                    #expect(
                        before + prompt >= 19.99 && before + prompt <= ttft,
                        "server preprocess + queue + prefill \(before + prompt) ms, client ttft \(ttft) ms")
                    // The last token's deadline: 20 ms, then 23 gaps of 5 ms, after the arrival.
                    #expect(before + prompt + generation >= 20 + 23 * 5 - 0.01 && prompt + generation <= total)
                    // Its total (`total_ms`) lies inside the client's.
                    let serverTotal = try #require(Metric.serverTotal.value(of: n))
                    #expect(serverTotal >= before + prompt + generation - 0.01 && serverTotal <= total)
                } else {
                    #expect(n.serverTimings == nil)
                }
            }
        }
        for (variant, values) in excess {
            #expect(typicalDifference(values) < 5, "\(variant): client ttft − server ttft \(values) ms")
        }
    }

    @Test func tgiWithoutStreamingUsesGenerateAndAFaultIsItsStatus() throws {
        let (runs, _) = try AnthropicRunTests.run(
            """
            version: 1
            name: native-whole
            target:
              backend: local
              engine: synthetic
              options: { itl-ms: 1 }
            workload:
              prompts: ["hi"]
              max_tokens: 6
              stream: false
            load: { concurrency: 1, requests: 2, warmup: 0 }
            variants:
              tgi: { target: { api: tgi } }
              llamacpp-429: { target: { api: llamacpp, options: { fault: http_429 } } }
            """)
        let whole = try #require(runs["tgi"]).traces
        #expect(whole.count == 2)
        for trace in whole {
            #expect(trace.succeeded, "\(trace.outcome)")
            #expect(trace.chunkTokens == [6] && trace.outputTokens == 6 && trace.outputTokenSource == .usage)
            #expect(trace.outputText == "lorem ipsum dolor sit amet consectetur")
        }
        let limited = try #require(runs["llamacpp-429"]).traces
        #expect(limited.count == 2)
        for trace in limited {
            #expect(trace.outcome.failureKind == .http(status: 429), "\(trace.outcome)")
            #expect(trace.outcome.detail.contains("rate_limit") || trace.outcome.detail.contains("Rate limit"))
        }
    }
}
