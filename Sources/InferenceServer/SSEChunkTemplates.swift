import NIOCore

/// The bytes of every SSE event of one streamed response, rendered once per request; per token only
/// the escaped content is written between a fixed prefix and suffix.
struct SSEChunkTemplates: Sendable {
    /// Written before the escaped content of a content event.
    let contentPrefix: ByteBuffer
    /// Written after it.
    let contentSuffix: ByteBuffer
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
        case .completion:
            contentPrefix = ByteBuffer(string: head + "[{\"index\":0,\"text\":\"")
            contentSuffix = ByteBuffer(string: "\",\"logprobs\":null,\"finish_reason\":null}]}\n\n")
        }
    }

    /// The first chat event: the assistant role with empty content.
    var roleEvent: ByteBuffer {
        ByteBuffer(
            string: head + "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,"
                + "\"finish_reason\":null}]}\n\n")
    }

    func finishEvent(_ reason: GenerationFinish.Reason) -> ByteBuffer {
        switch endpoint {
        case .chat:
            return ByteBuffer(
                string: head
                    + "[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"\(reason.rawValue)\"}]}\n\n")
        case .completion:
            return ByteBuffer(
                string: head
                    + "[{\"index\":0,\"text\":\"\",\"logprobs\":null,\"finish_reason\":\"\(reason.rawValue)\"}]}\n\n"
            )
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
}
