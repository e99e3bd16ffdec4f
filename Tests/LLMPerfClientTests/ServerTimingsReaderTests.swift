import Foundation
import LLMPerfCore
import Testing

@testable import LLMPerfClient

/// The server's timings as the client reads them: llama.cpp's (and `llmperf serve`'s) `timings` object through
/// the cursor, the same fields as `JSONSerialization` reads, and a `Server-Timing` header.
@Suite struct ServerTimingsReaderTests {
    static func read(_ json: String) -> (fast: ServerTimings, slow: ServerTimings) {
        var bytes = Array(json.utf8)
        return bytes.withUnsafeMutableBytes { raw in
            let buffer = UnsafeRawBufferPointer(raw)
            return (ServerTimingsReader.llamaCpp(buffer), ServerTimingsReader.llamaCppSlow(buffer))
        }
    }

    /// `llmperf serve`'s final chunk (its shape, `ServerPhases.timingsJSON`), beside `choices`.
    static let bundled = """
        {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,\
        "delta":{},"logprobs":null,"finish_reason":"stop"}],"timings":{"cache_n":3,"prompt_n":12,"prompt_ms":20.125,\
        "prompt_per_token_ms":1.677,"prompt_per_second":596.273,"predicted_n":16,"predicted_ms":30.5,\
        "predicted_per_token_ms":1.906,"predicted_per_second":524.59,"draft_n":6,"draft_n_accepted":2,\
        "queue_ms":4,"preprocess_ms":0.41,"postprocess_ms":0.05,"total_ms":55.085,"batch_size":2.5}}
        """

    @Test func theCursorReadsEveryFieldAsJSONSerializationDoes() {
        let (fast, slow) = Self.read(Self.bundled)
        let expected = ServerTimings(
            promptNanos: 20_125_000, generationNanos: 30_500_000, totalNanos: 55_085_000, draftTokens: 6,
            draftAcceptedTokens: 2, queueNanos: 4_000_000, preprocessNanos: 410_000, postprocessNanos: 50_000,
            cachedTokens: 3, batchSize: 2.5)
        #expect(fast == expected)
        #expect(slow == expected)
        // llama-server's own object (no phases of ours), a null, an exponent and a field it does not know.
        let llama = """
            {"content":"","stop":true,"timings":{"prompt_n":5,"prompt_ms":1.25e1,"predicted_ms":40.25,\
            "cache_n":null,"extra":[1,{"a":2}]},"tokens_predicted":4}
            """
        let (llamaFast, llamaSlow) = Self.read(llama)
        #expect(llamaFast == ServerTimings(promptNanos: 12_500_000, generationNanos: 40_250_000))
        #expect(llamaFast == llamaSlow)
        // No timings, or not an object: nothing.
        #expect(Self.read(#"{"choices":[]}"#).fast.isEmpty)
        #expect(Self.read("[1,2]").fast.isEmpty)
    }

    /// What the cursor does not take goes to `JSONSerialization`, which decides as before.
    @Test func anEscapedKeyOrAnOddValueFallsBackToJSONSerialization() {
        // "prompt\u005fms" is prompt_ms.
        let escaped = #"{"timings":{"prompt\u005fms":7.5,"predicted_ms":2}}"#
        #expect(Self.read(escaped).fast == ServerTimings(promptNanos: 7_500_000, generationNanos: 2_000_000))
        // A string where a number belongs: that field is left nil, the others read.
        let odd = #"{"timings":{"prompt_ms":"soon","predicted_ms":2,"cache_n":1.5,"batch_size":-1}}"#
        #expect(Self.read(odd).fast == ServerTimings(generationNanos: 2_000_000))
        #expect(Self.read(odd).fast == Self.read(odd).slow)
    }

    @Test func serverTimingHeaderNamesThePhases() {
        let header =
            "preprocess;dur=0.41, queue;dur=0, prefill;dur=20.1, decode;dur=30.2, postprocess;dur=0.05, "
            + "total;dur=50.76, cache;desc=\"hit\", db;dur=53, prefill;dur=abc"
        // A later `prefill` without a valid duration leaves the first one.
        #expect(
            ServerTimingsReader.serverTiming(header)
                == ServerTimings(
                    promptNanos: 20_100_000, generationNanos: 30_200_000, totalNanos: 50_760_000, queueNanos: 0,
                    preprocessNanos: 410_000, postprocessNanos: 50_000))
        #expect(ServerTimingsReader.serverTiming("cache;desc=hit").isEmpty)
    }
}
