import BenchmarkSupport
import LLMPerfCore

/// A recorded OpenAI chat completion stream, generated from a seed (the same bytes on every run):
/// a role chunk, `contentEvents` content chunks, a finish chunk, a usage chunk and `[DONE]`,
/// cut into the pieces a socket read would deliver (512 B to 16 KiB). Content is words with now
/// and then an escape (`\n`, `\"`, `\u00e9`, a surrogate pair), as models write.
struct StreamRecording: Sendable {
    let contentEvents: Int
    /// The response body.
    let body: [UInt8]
    /// Where the reads end, in order.
    let cuts: [Int]
    /// Events in the body (content plus the role, finish, usage and `[DONE]` events).
    let eventCount: Int
    /// The same chunks as one JSON array, for `JSONCursor`.
    let document: [UInt8]
    /// The content strings alone, as a JSON array of strings.
    let strings: [UInt8]
    /// Bytes of content once unescaped (an upper bound: escapes are counted as written).
    let contentBytes: Int

    init(contentEvents: Int, seed: UInt64) {
        var random = ScenarioRandom(seed: seed)
        let words = [
            "the", "model", "streams", "tokens", "latency", "of", "each", "request", "is", "measured", "from",
            "first", "byte", "to", "last", "and", "every", "gap", "between", "chunks", "counts", "throughput",
        ]
        let escapes = [#"\n"#, #"\""#, #"caf\u00e9"#, #"\ud83d\ude00"#, #"\t"#]
        let prefix =
            #"{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1733000000,"#
            + #""model":"SmolLM2-135M-Instruct","choices":[{"index":0,"delta":"#
        func chunk(delta: String, finish: String = "null") -> String {
            prefix + delta + #","logprobs":null,"finish_reason":"# + finish + "}]}"
        }
        var chunks = [chunk(delta: #"{"role":"assistant","content":""}"#)]
        var contents: [String] = []
        for _ in 0..<contentEvents {
            let content =
                random.below(20) == 0
                ? escapes[random.below(escapes.count)] : " " + words[random.below(words.count)]
            contents.append(content)
            chunks.append(chunk(delta: #"{"content":""# + content + #""}"#))
        }
        chunks.append(chunk(delta: "{}", finish: #""stop""#))
        chunks.append(
            #"{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1733000000,"choices":[],"#
                + #""usage":{"prompt_tokens":37,"completion_tokens":\#(contentEvents),"total_tokens":\#(contentEvents + 37)}}"#
        )
        var text = ""
        for c in chunks { text += "data: " + c + "\n\n" }
        text += "data: [DONE]\n\n"
        body = Array(text.utf8)
        eventCount = chunks.count + 1
        var cuts: [Int] = []
        var end = 0
        while end < body.count {
            end = min(body.count, end + 512 + random.below(16_384 - 512))
            cuts.append(end)
        }
        self.cuts = cuts
        self.contentEvents = contentEvents
        document = Array(("[" + chunks.joined(separator: ",") + "]").utf8)
        strings = Array(("[" + contents.map { "\"" + $0 + "\"" }.joined(separator: ",") + "]").utf8)
        contentBytes = contents.reduce(0) { $0 + $1.utf8.count }
    }

    /// Calls `body` with each read, in order.
    func forEachPiece(_ handle: (UnsafeRawBufferPointer) -> Void) {
        body.withUnsafeBytes { all in
            var start = 0
            for end in cuts {
                handle(UnsafeRawBufferPointer(rebasing: all[start..<end]))
                start = end
            }
        }
    }
}
