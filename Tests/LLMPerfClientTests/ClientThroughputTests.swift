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

    /// The same bytes through the framer and decoder alone, in memory, `times` times: the parsing
    /// work with no network, no libcurl and no server. Returns content events per second.
    static func bareParseRate(_ body: String, times: Int) -> Double {
        let bytes = Array(body.utf8)
        let dialect = OpenAIChatDialect()
        var events = 0
        let start = MonotonicClock.nanos()
        for _ in 0..<times {
            var parser = SSEParser()
            var response = ResponseAccumulator()
            bytes.withUnsafeBytes { raw in
                // In 16 KiB reads, as libcurl hands them over.
                var offset = 0
                while offset < raw.count {
                    let end = min(raw.count, offset + 16_384)
                    parser.feed(UnsafeRawBufferPointer(rebasing: raw[offset..<end])) { event in
                        dialect.decodeStreamEvent(name: event.name, data: event.data, into: &response)
                    }
                    offset = end
                }
            }
            events += response.chunkAtNanos.count
        }
        return Double(events) / (Double(MonotonicClock.nanos() - start) / 1e9)
    }

    /// Every token of 64 concurrent streams is parsed and stamped, and the whole client (libcurl,
    /// the loop, the driver) keeps up with its own parser: measured side by side on the same bytes
    /// (so a loaded machine slows both), the end-to-end rate is at least 1/8 of the bare parse rate.
    /// A per-token cost outside the parser (a copy of the buffer per event, a lock per token, a
    /// wake-up per chunk) breaks the ratio; the machine's speed does not.
    @Test func parsesEveryTokenAtConcurrency64() async throws {
        let full = ProcessInfo.processInfo.environment["LLMPERF_THROUGHPUT"] == "1"
        let tokensPerRequest = full ? 2000 : 200
        let requests = full ? 512 : 128
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
        let bareBefore = Self.bareParseRate(body, times: requests / 2)
        let start = MonotonicClock.nanos()
        let traces = await driver.run()
        let seconds = Double(MonotonicClock.nanos() - start) / 1e9
        let bareAfter = Self.bareParseRate(body, times: requests / 2)
        let tokens = traces.reduce(0) { $0 + $1.chunkAtNanos.count }
        #expect(traces.count == requests)
        #expect(traces.allSatisfy { $0.outcome == .ok })
        // Every chunk stamped inside its request, in order.
        #expect(
            traces.allSatisfy { trace in
                trace.chunkAtNanos.allSatisfy { $0 >= trace.startedAtNanos && $0 <= trace.endedAtNanos }
                    && zip(trace.chunkAtNanos.dropFirst(), trace.chunkAtNanos).allSatisfy { $0 >= $1 }
            })
        let endToEnd = Double(tokens) / seconds
        let bare = max(bareBefore, bareAfter)
        if external == nil {
            #expect(traces.allSatisfy { $0.chunkAtNanos.count == tokensPerRequest })
            #expect(tokens == requests * tokensPerRequest)
            #expect(
                endToEnd * 8 >= bare,
                "end to end \(Int(endToEnd)) tokens/s, bare parser \(Int(bare)) tokens/s (\(Int(bareBefore)), \(Int(bareAfter)))"
            )
        }
        print(
            "client throughput: \(tokens) tokens in \(seconds) s = \(Int(endToEnd)) tokens/s; bare parser \(Int(bare)) tokens/s"
        )
    }
}
