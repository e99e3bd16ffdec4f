import BenchmarkSupport
import LLMPerfCore

/// A recorded OpenAI Responses stream, generated from a seed: response.created and
/// response.in_progress, a reasoning item of a quarter of the content events
/// (response.reasoning_text.delta) and its closing events, a message item of the rest
/// (response.output_text.delta), and response.completed with usage, each as `event: TYPE` +
/// `data: JSON` with a sequence number, cut into 512 B–16 KiB reads like `StreamRecording`.
struct ResponsesStreamRecording: Sendable {
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
        var sequence = 0
        func event(_ type: String, _ fields: String) {
            text += "event: \(type)\ndata: {\"type\":\"\(type)\",\(fields),\"sequence_number\":\(sequence)}\n\n"
            sequence += 1
        }
        let response =
            #""response":{"id":"resp_bench","object":"response","created_at":1,"status":"in_progress","#
            + #""model":"bench","output":[],"usage":null}"#
        event("response.created", response)
        event("response.in_progress", response)
        let thinking = contentEvents / 4
        event("response.output_item.added", #""output_index":0,"item":{"id":"rs_b","type":"reasoning","content":[]}"#)
        for index in 0..<contentEvents {
            let word =
                random.below(20) == 0 ? escapes[random.below(escapes.count)] : " " + words[random.below(words.count)]
            if index < thinking {
                event(
                    "response.reasoning_text.delta",
                    #""item_id":"rs_b","output_index":0,"content_index":0,"delta":""# + word + "\"")
                continue
            }
            if index == thinking {
                event("response.reasoning_text.done", #""item_id":"rs_b","output_index":0,"text":"…""#)
                event(
                    "response.output_item.done",
                    #""output_index":0,"item":{"id":"rs_b","type":"reasoning","content":[]}"#)
                event(
                    "response.output_item.added",
                    #""output_index":1,"item":{"id":"msg_b","type":"message","role":"assistant","content":[]}"#)
                event(
                    "response.content_part.added",
                    #""item_id":"msg_b","output_index":1,"content_index":0,"part":{"type":"output_text","text":""}"#)
            }
            event(
                "response.output_text.delta",
                #""item_id":"msg_b","output_index":1,"content_index":0,"delta":""# + word + #"","logprobs":[]"#)
        }
        event("response.output_text.done", #""item_id":"msg_b","output_index":1,"content_index":0,"text":"…""#)
        event(
            "response.completed",
            #""response":{"id":"resp_bench","object":"response","status":"completed","output":[],"#
                + #""usage":{"input_tokens":37,"input_tokens_details":{"cached_tokens":0},"output_tokens":\#(contentEvents),"#
                + #""output_tokens_details":{"reasoning_tokens":\#(thinking)},"total_tokens":\#(contentEvents + 37)}}"#)
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
