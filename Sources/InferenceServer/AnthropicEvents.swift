import NIOCore

/// The SSE events and the JSON body of one answer on `/v1/messages`, in the shapes of Anthropic's Messages
/// API reference (https://docs.anthropic.com/en/api/messages) and its streaming reference
/// (https://docs.anthropic.com/en/docs/build-with-claude/streaming, "Event types" and "Raw HTTP Stream
/// response"): every event is an `event: NAME` line and a `data: JSON` line whose `type` repeats the name.
/// A stream is `message_start` (the message with empty `content`, `usage.output_tokens` 1 as the reference's
/// example shows), then per content block `content_block_start`, its `content_block_delta`s (`text_delta`,
/// `thinking_delta` then a `signature_delta` closing a thinking block, `input_json_delta` whose
/// `partial_json` fragments concatenate to a tool's input object) and `content_block_stop`, then
/// `message_delta` (`stop_reason`, `stop_sequence`, and `usage.output_tokens`, the whole count) and
/// `message_stop`. `ping` events may come anywhere; an `error` event may end a stream.
struct AnthropicEvents: Sendable {
    /// What a content block holds.
    enum Block: Sendable, Equatable {
        case text
        case thinking
        case toolUse(id: String, name: String)
    }

    let id: String
    let model: String
    let inputTokens: Int

    /// The signature closing every thinking block: the synthetic engine's reasoning is not a real model's,
    /// so there is nothing to sign; clients only pass it back.
    static let signature = "bGxtcGVyZi1zeW50aGV0aWMtdGhpbmtpbmc="

    static let ping = event("ping", "{\"type\":\"ping\"}")
    static let messageStop = event("message_stop", "{\"type\":\"message_stop\"}")

    static func event(_ name: String, _ data: String) -> ByteBuffer {
        ByteBuffer(string: "event: \(name)\ndata: \(data)\n\n")
    }

    var messageStart: ByteBuffer {
        var data = "{\"type\":\"message_start\",\"message\":{\"id\":"
        JSONText.appendQuoted(id, to: &data)
        data += ",\"type\":\"message\",\"role\":\"assistant\",\"model\":"
        JSONText.appendQuoted(model, to: &data)
        data += ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,"
        data += "\"usage\":{\"input_tokens\":\(inputTokens),\"output_tokens\":1}}}"
        return Self.event("message_start", data)
    }

    static func blockStart(index: Int, _ block: Block) -> ByteBuffer {
        var data = "{\"type\":\"content_block_start\",\"index\":\(index),\"content_block\":"
        switch block {
        case .text:
            data += "{\"type\":\"text\",\"text\":\"\"}"
        case .thinking:
            data += "{\"type\":\"thinking\",\"thinking\":\"\"}"
        case .toolUse(let id, let name):
            data += "{\"type\":\"tool_use\",\"id\":"
            JSONText.appendQuoted(id, to: &data)
            data += ",\"name\":"
            JSONText.appendQuoted(name, to: &data)
            data += ",\"input\":{}}"
        }
        return Self.event("content_block_start", data + "}")
    }

    /// What goes before and after the escaped text of a delta in block `index` holding `block`.
    static func deltaFraming(index: Int, _ block: Block) -> (prefix: ByteBuffer, suffix: ByteBuffer) {
        let (type, field): (String, String)
        switch block {
        case .text: (type, field) = ("text_delta", "text")
        case .thinking: (type, field) = ("thinking_delta", "thinking")
        case .toolUse: (type, field) = ("input_json_delta", "partial_json")
        }
        return (
            ByteBuffer(
                string: "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":\(index),"
                    + "\"delta\":{\"type\":\"\(type)\",\"\(field)\":\""),
            ByteBuffer(string: "\"}}\n\n")
        )
    }

    static func signatureDelta(index: Int) -> ByteBuffer {
        event(
            "content_block_delta",
            "{\"type\":\"content_block_delta\",\"index\":\(index),\"delta\":{\"type\":\"signature_delta\","
                + "\"signature\":\"\(signature)\"}}")
    }

    static func blockStop(index: Int) -> ByteBuffer {
        event("content_block_stop", "{\"type\":\"content_block_stop\",\"index\":\(index)}")
    }

    static func messageDelta(stopReason: String, stopSequence: String?, outputTokens: Int) -> ByteBuffer {
        var data = "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
        JSONText.appendQuoted(stopReason, to: &data)
        data += ",\"stop_sequence\":"
        if let stopSequence { JSONText.appendQuoted(stopSequence, to: &data) } else { data += "null" }
        data += "},\"usage\":{\"output_tokens\":\(outputTokens)}}"
        return event("message_delta", data)
    }

    /// An `error` event: `{"type":"error","error":{"type":…,"message":…}}`.
    static func error(type: String, message: String) -> ByteBuffer {
        event("error", APIError.anthropicBody(type: type, message: message))
    }

    /// `stop_reason` for how the generation ended: `end_turn`, `max_tokens`, `tool_use`, or `stop_sequence`
    /// when a stop sequence matched.
    static func stopReason(_ reason: GenerationFinish.Reason, stopSequence: String?) -> String {
        if stopSequence != nil { return "stop_sequence" }
        switch reason {
        case .stop: return "end_turn"
        case .length: return "max_tokens"
        case .toolCalls: return "tool_use"
        }
    }

    /// Anthropic's tool-use id for a call id of the engine (`call_X` becomes `toolu_X`).
    static func toolUseID(_ callID: String) -> String {
        "toolu_" + (callID.hasPrefix("call_") ? String(callID.dropFirst(5)) : callID)
    }

    /// The non-streamed answer: `{id, type: "message", role, model, content: [thinking?, text?, tool_use?],
    /// stop_reason, stop_sequence, usage: {input_tokens, output_tokens}}`. A tool's `input` is the call's
    /// arguments object itself, not a string; an answer with no block at all gets one empty text block.
    func body(_ result: CompletionCollector.Result) -> String {
        var out = "{\"id\":"
        JSONText.appendQuoted(id, to: &out)
        out += ",\"type\":\"message\",\"role\":\"assistant\",\"model\":"
        JSONText.appendQuoted(model, to: &out)
        out += ",\"content\":["
        var blocks: [String] = []
        if result.reasoningTokens > 0 {
            var block = "{\"type\":\"thinking\",\"thinking\":"
            JSONText.appendQuoted(result.reasoning, to: &block)
            blocks.append(block + ",\"signature\":\"\(Self.signature)\"}")
        }
        if !result.text.isEmpty || (result.reasoningTokens == 0 && result.toolCall == nil) {
            var block = "{\"type\":\"text\",\"text\":"
            JSONText.appendQuoted(result.text, to: &block)
            blocks.append(block + "}")
        }
        if let call = result.toolCall {
            var block = "{\"type\":\"tool_use\",\"id\":"
            JSONText.appendQuoted(Self.toolUseID(call.id), to: &block)
            block += ",\"name\":"
            JSONText.appendQuoted(call.name, to: &block)
            // The engine's arguments are a JSON object by construction; anything else would not be one.
            let input = call.arguments.trimmingPrefix(while: \.isWhitespace).hasPrefix("{") ? call.arguments : "{}"
            blocks.append(block + ",\"input\":" + input + "}")
        }
        out += blocks.joined(separator: ",")
        out += "],\"stop_reason\":"
        JSONText.appendQuoted(Self.stopReason(result.finish.reason, stopSequence: result.stopSequence), to: &out)
        out += ",\"stop_sequence\":"
        if let sequence = result.stopSequence { JSONText.appendQuoted(sequence, to: &out) } else { out += "null" }
        out += ",\"usage\":{\"input_tokens\":\(inputTokens),\"output_tokens\":\(result.completionTokens)}}"
        return out
    }
}
