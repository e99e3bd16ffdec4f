import Foundation
import LLMPerfClient
import LLMPerfCore
import Testing

/// How fast the client parses and timestamps streamed tokens: concurrency 64 against a local
/// server that sends each request's whole stream at once (one SSE event per token), sharing
/// the CPU with the client. A short run always; `LLMPERF_THROUGHPUT=1` runs the full-size one
/// and prints tokens/s (use a release build: `swift test -c release --filter Throughput`).
/// Tokens are counted from the parsed content chunks, each timestamped.
@Suite struct ClientThroughputTests {
    static func stream(tokens: Int) -> String {
        var s =
            "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1764063000,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
        for i in 0..<tokens {
            s +=
                "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1764063000,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" tok\(i % 10)\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
        }
        s +=
            "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1764063000,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n"
        s +=
            "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1764063000,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":\(tokens),\"total_tokens\":\(tokens + 5)}}\n\ndata: [DONE]\n\n"
        return s
    }

    @Test func parsesEveryTokenAtConcurrency64() async throws {
        let full = ProcessInfo.processInfo.environment["LLMPERF_THROUGHPUT"] == "1"
        let tokensPerRequest = full ? 2000 : 200
        let requests = full ? 512 : 64
        let body = Self.stream(tokens: tokensPerRequest)
        let server = try ScriptedServer { _ in [.head(status: 200), .send(body), .finish] }
        defer { server.stop() }
        let workload = WorkloadSpec(prompts: [Prompt(user: "go")], maxTokens: tokensPerRequest)
        // LLMPERF_THROUGHPUT_URL: measure against another server (e.g. `llmperf serve` at
        // --ttft-ms 0 --itl-ms 0) that streams max_tokens tokens.
        let external = ProcessInfo.processInfo.environment["LLMPERF_THROUGHPUT_URL"]
        let driver = LoadDriver(
            config: TestTransport.config(external ?? server.url), workload: workload,
            model: ProcessInfo.processInfo.environment["LLMPERF_THROUGHPUT_MODEL"] ?? "m",
            load: LoadSpec(shape: .closed(concurrency: 64), stop: .requests(requests)))
        let start = MonotonicClock.nanos()
        let traces = await driver.run()
        let seconds = Double(MonotonicClock.nanos() - start) / 1e9
        let tokens = traces.reduce(0) { $0 + $1.chunkAtNanos.count }
        #expect(traces.count == requests)
        #expect(traces.allSatisfy { $0.outcome == .ok })
        if external == nil {
            #expect(traces.allSatisfy { $0.chunkAtNanos.count == tokensPerRequest })
            #expect(tokens == requests * tokensPerRequest)
        }
        if full {
            print("client throughput: \(tokens) tokens in \(seconds) s = \(Int(Double(tokens) / seconds)) tokens/s")
        }
    }
}
