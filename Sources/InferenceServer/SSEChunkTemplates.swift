import NIOCore

/// The bytes of every SSE event of one streamed response, rendered once per request; per token only
/// the escaped content is written between a fixed prefix and suffix.
///
/// Chat answers with reasoning or a tool call follow the shapes others serve: reasoning text streams in
/// `delta.reasoning_content`, the field vLLM and DeepSeek use (vLLM's "Reasoning Outputs" page,
/// https://docs.vllm.ai/en/v0.8.3/features/reasoning_outputs.html). A function call streams as in
/// OpenAI's Chat Completions streaming reference (https://platform.openai.com/docs/api-reference/chat-streaming):
/// one event opens `delta.tool_calls[0]` with its `index`, `id`, `type` and `function.name` and empty
/// `arguments` (the answer's first event also carries `role` and `"content":null`), later events carry only
/// `index` and an `arguments` fragment, and the finish event says `"finish_reason":"tool_calls"`.
struct SSEChunkTemplates: Sendable {
    /// Written before the escaped content of a content event.
    let contentPrefix: ByteBuffer
    /// Written after it.
    let contentSuffix: ByteBuffer
    /// Written before the escaped text of a reasoning event (on the completions API: a text event).
    let reasoningPrefix: ByteBuffer
    /// Written before the escaped fragment of a tool call's arguments (on the completions API: a text event).
    let argumentsPrefix: ByteBuffer
    /// Written after it.
    let argumentsSuffix: ByteBuffer
    /// `data: {…,"choices":` — the start every event of this response shares.
    private let head: String
    private let endpoint: CompletionParameters.Endpoint

    static let done = ByteBuffer(string: "data: [DONE]\n\n")

    init(endpoint: CompletionParameters.Endpoint, id: String, created: Int, model: String) {
        self.endpoint = endpoint
        let object = endpoint == .chat ? "chat.completion.chunk" : "text_completion"
        var head = "data: {\"id\":"
        JSONText.appendQuoted(id, to: &head)
        head += ",\"object\":\"\(object)\",\"created\":\(created),\"model\":"
        JSONText.appendQuoted(model, to: &head)
        head += ",\"choices\":"
        self.head = head
        switch endpoint {
        case .chat:
            contentPrefix = ByteBuffer(string: head + "[{\"index\":0,\"delta\":{\"content\":\"")
            contentSuffix = ByteBuffer(string: "\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n")
            reasoningPrefix = ByteBuffer(string: head + "[{\"index\":0,\"delta\":{\"reasoning_content\":\"")
            argumentsPrefix = ByteBuffer(
                string: head + "[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"")
            argumentsSuffix = ByteBuffer(string: "\"}}]},\"logprobs\":null,\"finish_reason\":null}]}\n\n")
        case .completion:
            contentPrefix = ByteBuffer(string: head + "[{\"index\":0,\"text\":\"")
            contentSuffix = ByteBuffer(string: "\",\"logprobs\":null,\"finish_reason\":null}]}\n\n")
            reasoningPrefix = contentPrefix
            argumentsPrefix = contentPrefix
            argumentsSuffix = contentSuffix
        }
    }

    /// The first chat event: the assistant role with empty content.
    var roleEvent: ByteBuffer {
        ByteBuffer(
            string: head + "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,"
                + "\"finish_reason\":null}]}\n\n")
    }

    /// The event opening a tool call (chat only: nil on the completions API), with the arguments' first text
    /// (usually empty). `carriesRole` when it is the answer's first event.
    func toolCallEvent(id: String, name: String, arguments: String, carriesRole: Bool) -> ByteBuffer? {
        guard endpoint == .chat else { return nil }
        var out = head + "[{\"index\":0,\"delta\":{"
        if carriesRole { out += "\"role\":\"assistant\",\"content\":null," }
        out += "\"tool_calls\":[{\"index\":0,\"id\":"
        JSONText.appendQuoted(id, to: &out)
        out += ",\"type\":\"function\",\"function\":{\"name\":"
        JSONText.appendQuoted(name, to: &out)
        out += ",\"arguments\":"
        JSONText.appendQuoted(arguments, to: &out)
        out += "}}]},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
        return ByteBuffer(string: out)
    }

    /// The event with the finish reason; `timings` (a JSON object, `ServerPhases.timingsJSON`) goes beside
    /// `choices` as llama.cpp's server puts its `timings` in its last chunk.
    func finishEvent(_ reason: GenerationFinish.Reason, timings: String? = nil) -> ByteBuffer {
        let tail = timings.map { "],\"timings\":\($0)}\n\n" } ?? "]}\n\n"
        switch endpoint {
        case .chat:
            return ByteBuffer(
                string: head
                    + "[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"\(reason.rawValue)\"}" + tail)
        case .completion:
            return ByteBuffer(
                string: head
                    + "[{\"index\":0,\"text\":\"\",\"logprobs\":null,\"finish_reason\":\"\(reason.rawValue)\"}"
                    + tail)
        }
    }

    /// An event with `"choices":[]` and no usage (the `empty_choices` fault).
    var emptyChoicesEvent: ByteBuffer { ByteBuffer(string: head + "[]}\n\n") }

    func usageEvent(_ usage: CompletionUsage) -> ByteBuffer {
        ByteBuffer(string: head + "[],\"usage\":" + usage.json + "}\n\n")
    }

    @inline(__always)
    func writeContentEvent(_ text: String, to buffer: inout ByteBuffer) {
        buffer.writeImmutableBuffer(contentPrefix)
        JSONText.writeEscaped(text, to: &buffer)
        buffer.writeImmutableBuffer(contentSuffix)
    }

    /// Text of `kind` (`.content`, `.reasoning` or `.toolArguments`; a tool call's opening has its own
    /// event, `toolCallEvent`) as one event.
    @inline(__always)
    func writeTextEvent(_ text: String, kind: GeneratedPiece.Kind, to buffer: inout ByteBuffer) {
        let (prefix, suffix) = framing(of: kind)
        buffer.writeImmutableBuffer(prefix)
        JSONText.writeEscaped(text, to: &buffer)
        buffer.writeImmutableBuffer(suffix)
    }

    /// What goes before and after the escaped text of an event of `kind`.
    @inline(__always)
    func framing(of kind: GeneratedPiece.Kind) -> (prefix: ByteBuffer, suffix: ByteBuffer) {
        switch kind {
        case .content, .toolCall: return (contentPrefix, contentSuffix)
        case .reasoning: return (reasoningPrefix, contentSuffix)
        case .toolArguments: return (argumentsPrefix, argumentsSuffix)
        }
    }
}
