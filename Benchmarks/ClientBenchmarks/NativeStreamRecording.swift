import BenchmarkSupport
import LLMPerfCore

/// Recorded streams of the APIs that have no typed events, generated from a seed in the shapes of the
/// client's fixtures (each written from its server's reference): llama.cpp's `/completion` (`data:` events
/// with `content`, then a `stop: true` event with the counts), TGI's `/generate_stream` (token events, the
/// last with `generated_text` and `details`) and Ollama's `/api/chat` (NDJSON lines, a quarter `thinking`,
/// then a `done: true` line with `eval_count`), cut into 512 B–16 KiB reads like `StreamRecording`.
struct NativeStreamRecording: Sendable {
    enum API: Sendable { case llamaCpp, tgi, ollama }

    let contentEvents: Int
    let body: [UInt8]
    let cuts: [Int]

    init(_ api: API, contentEvents: Int, seed: UInt64) {
        var random = ScenarioRandom(seed: seed)
        let words = [
            "the", "model", "thinks", "before", "it", "answers", "and", "every", "token", "of", "both", "counts",
        ]
        let escapes = [#"\n"#, #"\""#, #"caf\u00e9"#, #"\ud83d\ude00"#]
        var text = ""
        for index in 0..<contentEvents {
            let word =
                random.below(20) == 0 ? escapes[random.below(escapes.count)] : " " + words[random.below(words.count)]
            switch api {
            case .llamaCpp:
                text +=
                    #"data: {"index":0,"content":""# + word + #"","tokens":[],"stop":false,"id_slot":0,"#
                    + #""tokens_predicted":\#(index + 1),"tokens_evaluated":11}"# + "\n\n"
            case .tgi:
                let last = index == contentEvents - 1
                text +=
                    #"data:{"index":\#(index + 1),"token":{"id":\#(1000 + index),"text":""# + word
                    + #"","logprob":-0.41,"special":false},"#
                    + (last
                        ? #""generated_text":"…","details":{"finish_reason":"length","generated_tokens":\#(contentEvents),"input_length":9,"seed":null}}"#
                        : #""generated_text":null,"details":null}"#) + "\n\n"
            case .ollama:
                let field = index < contentEvents / 4 ? #""content":"","thinking":""# : #""content":""#
                text +=
                    #"{"model":"qwen3","created_at":"2025-05-29T09:35:56.012345Z","message":{"role":"assistant","#
                    + field + word + #""},"done":false}"# + "\n"
            }
        }
        switch api {
        case .llamaCpp:
            text +=
                #"data: {"index":0,"content":"","tokens":[],"id_slot":0,"stop":true,"tokens_predicted":\#(contentEvents),"#
                + #""tokens_evaluated":11,"stop_type":"limit","timings":{"cache_n":3,"prompt_n":8,"prompt_ms":12.5,"#
                + #""predicted_n":\#(contentEvents),"predicted_ms":40.25}}"# + "\n\n"
        case .tgi:
            break
        case .ollama:
            text +=
                #"{"model":"qwen3","created_at":"2025-05-29T09:35:57.132345Z","message":{"role":"assistant","content":""},"#
                + #""done_reason":"length","done":true,"total_duration":648326000,"prompt_eval_count":26,"#
                + #""eval_count":\#(contentEvents),"eval_duration":120018000}"# + "\n"
        }
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
