/// Runs a generation to the end for a non-streamed response and renders the JSON body.
struct CompletionCollector: Sendable {
    let stream: GenerationStream
    let stop: [String]

    struct Result: Sendable {
        var text: String
        var completionTokens: Int
        var finish: GenerationFinish
        /// When the first content token arrived (CLOCK_MONOTONIC ns), for the TTFT histogram.
        var firstTokenNanos: UInt64?
    }

    func collect() async throws -> Result {
        var text = ""
        var tokens = 0
        var firstTokenNanos: UInt64?
        var matcher = stop.isEmpty ? nil : StopSequenceMatcher(sequences: stop)
        var finished = false
        defer { if !finished { stream.cancel() } }
        for try await batch in stream {
            if firstTokenNanos == nil, !batch.pieces.isEmpty { firstTokenNanos = MonotonicClock.nowNanos() }
            for piece in batch.pieces {
                tokens += piece.tokenCount
                if matcher == nil {
                    text += piece.text
                } else {
                    let (safe, matched) = matcher!.feed(piece.text)
                    text += safe
                    if matched {
                        return Result(
                            text: text, completionTokens: tokens, finish: GenerationFinish(reason: .stop),
                            firstTokenNanos: firstTokenNanos)
                    }
                }
            }
            if let finish = batch.finish {
                finished = true
                if let tail = matcher?.drain() { text += tail }
                return Result(text: text, completionTokens: tokens, finish: finish, firstTokenNanos: firstTokenNanos)
            }
        }
        finished = true
        if let tail = matcher?.drain() { text += tail }
        return Result(
            text: text, completionTokens: tokens, finish: GenerationFinish(reason: .stop),
            firstTokenNanos: firstTokenNanos)
    }

    static func body(
        endpoint: CompletionParameters.Endpoint, id: String, created: Int, model: String, result: Result,
        usage: CompletionUsage
    ) -> String {
        var out = "{\"id\":"
        JSONText.appendQuoted(id, to: &out)
        out +=
            ",\"object\":\"\(endpoint == .chat ? "chat.completion" : "text_completion")\",\"created\":\(created),\"model\":"
        JSONText.appendQuoted(model, to: &out)
        out += ",\"choices\":[{\"index\":0,"
        switch endpoint {
        case .chat:
            out += "\"message\":{\"role\":\"assistant\",\"content\":"
            JSONText.appendQuoted(result.text, to: &out)
            out += "},"
        case .completion:
            out += "\"text\":"
            JSONText.appendQuoted(result.text, to: &out)
            out += ","
        }
        out += "\"logprobs\":null,\"finish_reason\":\"\(result.finish.reason.rawValue)\"}],\"usage\":\(usage.json)}"
        return out
    }
}
