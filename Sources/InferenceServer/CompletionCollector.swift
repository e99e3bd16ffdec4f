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
        /// Reasoning before the answer (`message.reasoning_content`).
        var reasoning = ""
        var reasoningTokens = 0
        /// The function call the answer made, with its whole arguments.
        var toolCall: ToolCall?
        /// The stop sequence that ended the answer, when one did.
        var stopSequence: String?
    }

    struct ToolCall: Sendable, Equatable {
        var id: String
        var name: String
        var arguments: String
    }

    func collect() async throws -> Result {
        var text = ""
        var tokens = 0
        var firstTokenNanos: UInt64?
        var reasoning = ""
        var reasoningTokens = 0
        var toolCall: ToolCall?
        var matcher = stop.isEmpty ? nil : StopSequenceMatcher(sequences: stop)
        var finished = false
        defer { if !finished { stream.cancel() } }
        func result(_ finish: GenerationFinish) -> Result {
            Result(
                text: text, completionTokens: tokens, finish: finish, firstTokenNanos: firstTokenNanos,
                reasoning: reasoning, reasoningTokens: reasoningTokens, toolCall: toolCall,
                stopSequence: matcher?.matchedSequence)
        }
        for try await batch in stream {
            if firstTokenNanos == nil, !batch.pieces.isEmpty { firstTokenNanos = MonotonicClock.nowNanos() }
            for piece in batch.pieces {
                tokens += piece.tokenCount
                switch piece.kind {
                case .content:
                    break
                case .reasoning:
                    reasoning += piece.text
                    reasoningTokens += piece.tokenCount
                    continue
                case .toolCall(let id, let name):
                    toolCall = ToolCall(id: id, name: name, arguments: piece.text)
                    continue
                case .toolArguments:
                    toolCall?.arguments += piece.text
                    continue
                }
                if matcher == nil {
                    text += piece.text
                } else {
                    let (safe, matched) = matcher!.feed(piece.text)
                    text += safe
                    if matched { return result(GenerationFinish(reason: .stop)) }
                }
            }
            if let finish = batch.finish {
                finished = true
                if let tail = matcher?.drain() { text += tail }
                return result(finish)
            }
        }
        finished = true
        if let tail = matcher?.drain() { text += tail }
        return result(GenerationFinish(reason: .stop))
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
            // `content` is null when the answer is all reasoning or a tool call (as vLLM and OpenAI answer);
            // a call is `{"id","type":"function","function":{"name","arguments"}}` (OpenAI's chat completion
            // object, https://platform.openai.com/docs/api-reference/chat/object).
            out += "\"message\":{\"role\":\"assistant\",\"content\":"
            if result.text.isEmpty && (result.toolCall != nil || result.reasoningTokens > 0) {
                out += "null"
            } else {
                JSONText.appendQuoted(result.text, to: &out)
            }
            if result.reasoningTokens > 0 {
                out += ",\"reasoning_content\":"
                JSONText.appendQuoted(result.reasoning, to: &out)
            }
            if let call = result.toolCall {
                out += ",\"tool_calls\":[{\"id\":"
                JSONText.appendQuoted(call.id, to: &out)
                out += ",\"type\":\"function\",\"function\":{\"name\":"
                JSONText.appendQuoted(call.name, to: &out)
                out += ",\"arguments\":"
                JSONText.appendQuoted(call.arguments, to: &out)
                out += "}}]"
            }
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
