import NIOCore

/// The SSE events and the JSON body of one answer on `/v1/responses`, in the shapes of OpenAI's Responses
/// API reference ("The response object") and its streaming-events reference: every event is an
/// `event: TYPE` line and a `data: JSON` line whose `type` repeats it, with a `sequence_number` that counts
/// the events from 0. A stream is `response.created` and `response.in_progress` (the response with empty
/// `output`), then per output item `response.output_item.added`, its deltas and its closing events, then
/// `response.completed` (or `response.incomplete` when the answer reached `max_output_tokens`) carrying the
/// whole response with `usage`. No `[DONE]` follows.
///
/// The items: reasoning is a `reasoning` item whose text streams as `response.reasoning_text.delta` (the
/// raw-reasoning events open-weight servers send); answer text is a `message` item with one `output_text`
/// part (`response.content_part.added`, `response.output_text.delta`s, `response.output_text.done`,
/// `response.content_part.done`); a tool call is a `function_call` item (`call_id`, `name`) whose
/// `response.function_call_arguments.delta` fragments concatenate to its arguments.
struct ResponsesEvents: Sendable {
    /// What an output item holds.
    enum Item: Sendable, Equatable {
        case reasoning
        case message
        case functionCall(callID: String, name: String)

        var deltaType: String {
            switch self {
            case .reasoning: return "response.reasoning_text.delta"
            case .message: return "response.output_text.delta"
            case .functionCall: return "response.function_call_arguments.delta"
            }
        }
    }

    let id: String
    let model: String
    let inputTokens: Int
    let createdAt: Int

    /// The error code of the `overloaded_mid_stream` fault's `error` event.
    static let overloadedCode = "server_is_overloaded"

    /// The id of output item `index`: `rs_`, `msg_` or `fc_`, then the response's own hex digits and the index.
    func itemID(_ item: Item, index: Int) -> String {
        let suffix = String(id.dropFirst(5)) + String(index)
        switch item {
        case .reasoning: return "rs_" + suffix
        case .message: return "msg_" + suffix
        case .functionCall: return "fc_" + suffix
        }
    }

    /// `event: TYPE` and `data: {"type":TYPE,` + `fields` + `,"sequence_number":N}`.
    static func event(_ type: String, sequence: Int, _ fields: String) -> ByteBuffer {
        ByteBuffer(
            string: "event: \(type)\ndata: {\"type\":\"\(type)\"," + fields + ",\"sequence_number\":\(sequence)}\n\n")
    }

    /// The response object; `output` and `usage` are JSON text already (`[]` and `null` while in progress).
    func response(status: String, output: String, usage: String, incomplete: Bool = false) -> String {
        var out = "{\"id\":"
        JSONText.appendQuoted(id, to: &out)
        out += ",\"object\":\"response\",\"created_at\":\(createdAt),\"status\":\"\(status)\",\"model\":"
        JSONText.appendQuoted(model, to: &out)
        out += ",\"output\":" + output + ",\"incomplete_details\":"
        out += incomplete ? "{\"reason\":\"max_output_tokens\"}" : "null"
        out += ",\"error\":null,\"usage\":" + usage + "}"
        return out
    }

    func usage(outputTokens: Int, reasoningTokens: Int) -> String {
        "{\"input_tokens\":\(inputTokens),\"input_tokens_details\":{\"cached_tokens\":0},"
            + "\"output_tokens\":\(outputTokens),\"output_tokens_details\":{\"reasoning_tokens\":\(reasoningTokens)},"
            + "\"total_tokens\":\(inputTokens + outputTokens)}"
    }

    /// Output item `index` as JSON: in progress (`text` empty) when added, completed with its text when done.
    func item(_ item: Item, index: Int, text: String, done: Bool) -> String {
        var out = "{\"id\":"
        JSONText.appendQuoted(itemID(item, index: index), to: &out)
        switch item {
        case .reasoning:
            out += ",\"type\":\"reasoning\",\"summary\":[],\"content\":"
            if done {
                out += "[{\"type\":\"reasoning_text\",\"text\":"
                JSONText.appendQuoted(text, to: &out)
                out += "}]"
            } else {
                out += "[]"
            }
        case .message:
            out += ",\"type\":\"message\",\"status\":\"\(done ? "completed" : "in_progress")\",\"role\":\"assistant\""
            out += ",\"content\":"
            if done {
                out += "[" + Self.outputTextPart(text) + "]"
            } else {
                out += "[]"
            }
        case .functionCall(let callID, let name):
            out += ",\"type\":\"function_call\",\"status\":\"\(done ? "completed" : "in_progress")\",\"arguments\":"
            JSONText.appendQuoted(done ? text : "", to: &out)
            out += ",\"call_id\":"
            JSONText.appendQuoted(callID, to: &out)
            out += ",\"name\":"
            JSONText.appendQuoted(name, to: &out)
        }
        return out + "}"
    }

    static func outputTextPart(_ text: String) -> String {
        var out = "{\"type\":\"output_text\",\"annotations\":[],\"text\":"
        JSONText.appendQuoted(text, to: &out)
        return out + "}"
    }

    /// What goes before and after the escaped text of a delta of output item `index`.
    func deltaFraming(_ item: Item, index: Int) -> (prefix: ByteBuffer, suffix: ByteBuffer) {
        var prefix = "event: \(item.deltaType)\ndata: {\"type\":\"\(item.deltaType)\",\"item_id\":"
        JSONText.appendQuoted(itemID(item, index: index), to: &prefix)
        prefix += ",\"output_index\":\(index),"
        if case .functionCall = item {} else { prefix += "\"content_index\":0," }
        prefix += "\"delta\":\""
        return (ByteBuffer(string: prefix), ByteBuffer(string: "\",\"sequence_number\":"))
    }

    /// The non-streamed answer: the response object with its output items (reasoning, then the message or
    /// the function call) and usage; `status` `incomplete` when the answer reached `max_output_tokens`.
    func body(_ result: CompletionCollector.Result) -> String {
        var items: [String] = []
        if result.reasoningTokens > 0 { items.append(item(.reasoning, index: 0, text: result.reasoning, done: true)) }
        if let call = result.toolCall {
            items.append(
                item(
                    .functionCall(callID: call.id, name: call.name), index: items.count, text: call.arguments,
                    done: true))
        } else if !result.text.isEmpty || items.isEmpty {
            items.append(item(.message, index: items.count, text: result.text, done: true))
        }
        let incomplete = result.finish.reason == .length
        return response(
            status: incomplete ? "incomplete" : "completed", output: "[" + items.joined(separator: ",") + "]",
            usage: usage(outputTokens: result.completionTokens, reasoningTokens: result.reasoningTokens),
            incomplete: incomplete)
    }
}
