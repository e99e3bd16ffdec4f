import BenchmarkSupport
import LLMPerfCore

/// A recorded Anthropic Messages stream, generated from a seed: message_start, a ping, a
/// thinking block of a quarter of the content events (thinking_delta) closed by a signature, a
/// text block of the rest (text_delta), message_delta with the output count and message_stop,
/// each as `event: NAME` + `data: JSON`, cut into 512 B–16 KiB reads like `StreamRecording`.
struct AnthropicStreamRecording: Sendable {
    let contentEvents: Int
    let body: [UInt8]
    let cuts: [Int]

    init(contentEvents: Int, seed: UInt64) {
        var random = ScenarioRandom(seed: seed)
        let words = [
            "the", "model", "thinks", "before", "it", "answers", "and", "every", "token", "of", "both", "counts",
        ]
        let escapes = [#"\n"#, #"\""#, #"caf\u00e9"#, #"\ud83d\ude00"#]
        var text = ""
        func event(_ name: String, _ data: String) { text += "event: " + name + "\ndata: " + data + "\n\n" }
        event(
            "message_start",
            #"{"type":"message_start","message":{"id":"msg_bench","type":"message","role":"assistant","content":[],"#
                + #""model":"claude-bench","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":37,"#
                + #""cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}"#)
        event("ping", #"{"type":"ping"}"#)
        let thinking = contentEvents / 4
        event(
            "content_block_start",
            #"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#)
        for index in 0..<contentEvents {
            let word =
                random.below(20) == 0 ? escapes[random.below(escapes.count)] : " " + words[random.below(words.count)]
            if index < thinking {
                event(
                    "content_block_delta",
                    #"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":""# + word
                        + #""}}"#)
            } else {
                if index == thinking {
                    event(
                        "content_block_delta",
                        #"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"c2ln"}}"#
                    )
                    event("content_block_stop", #"{"type":"content_block_stop","index":0}"#)
                    event(
                        "content_block_start",
                        #"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#)
                }
                event(
                    "content_block_delta",
                    #"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":""# + word + #""}}"#)
            }
        }
        event("content_block_stop", #"{"type":"content_block_stop","index":1}"#)
        event(
            "message_delta",
            #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":\#(contentEvents)}}"#
        )
        event("message_stop", #"{"type":"message_stop"}"#)
        body = Array(text.utf8)
        var cuts: [Int] = []
        var end = 0
        while end < body.count {
            end = min(body.count, end + 512 + random.below(16_384 - 512))
            cuts.append(end)
        }
        self.cuts = cuts
        self.contentEvents = contentEvents
    }

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
