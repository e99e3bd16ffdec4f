/// A validated request to either endpoint: what the handler needs, in one shape.
struct CompletionParameters: Sendable {
    enum Endpoint: Sendable {
        case chat
        case completion
    }

    var endpoint: Endpoint
    var model: String
    var input: PromptInput
    /// `max_completion_tokens`, else `max_tokens`; nil when neither was sent.
    var maxTokens: Int?
    var stream: Bool
    var includeUsage: Bool
    var temperature: Double?
    var topP: Double?
    var seed: UInt64?
    var stop: [String]
    /// `ignore_eos`: generate `max_tokens` tokens even past end-of-sequence.
    var ignoreEOS: Bool

    static let allowedRoles: Set<String> = ["system", "developer", "user", "assistant", "tool"]

    init(chat body: ChatCompletionRequestBody) throws(APIError) {
        guard !body.messages.isEmpty else {
            throw .invalidRequest(
                "'messages' must contain at least one message.", param: "messages", code: "empty_array")
        }
        var messages: [ChatMessage] = []
        messages.reserveCapacity(body.messages.count)
        for (index, message) in body.messages.enumerated() {
            guard Self.allowedRoles.contains(message.role) else {
                throw .invalidRequest(
                    "Invalid value for 'messages[\(index)].role': '\(message.role)'. Supported roles: "
                        + Self.allowedRoles.sorted().joined(separator: ", ") + ".",
                    param: "messages[\(index)].role", code: "invalid_value")
            }
            if message.content == nil, message.role != "assistant" {
                throw .invalidRequest(
                    "Missing required parameter: 'messages[\(index)].content'.", param: "messages[\(index)].content",
                    code: "missing_required_parameter")
            }
            messages.append(ChatMessage(role: message.role, content: message.content?.flattened ?? ""))
        }
        try self.init(endpoint: .chat, model: body.model, input: .chat(messages), sampling: body.sampling)
    }

    init(completion body: CompletionRequestBody) throws(APIError) {
        let prompt: String
        switch body.prompt {
        case .text(let text):
            prompt = text
        case .texts(let texts):
            guard texts.count == 1 else {
                throw .invalidRequest(
                    "Batched prompts are not supported: send one prompt per request.", param: "prompt",
                    code: "unsupported_value")
            }
            prompt = texts[0]
        case .tokenIDs:
            throw .invalidRequest(
                "Token-id prompts are not supported: send the prompt as a string.", param: "prompt",
                code: "unsupported_value")
        }
        try self.init(endpoint: .completion, model: body.model, input: .completion(prompt), sampling: body.sampling)
    }

    /// A Messages API request (`/v1/messages`) on the chat prompt path; `MessagesParameters` validated it.
    init(
        messagesModel model: String, conversation: [ChatMessage], maxTokens: Int, stream: Bool, temperature: Double?,
        topP: Double?, stop: [String]
    ) {
        endpoint = .chat
        self.model = model
        input = .chat(conversation)
        self.maxTokens = maxTokens
        self.stream = stream
        includeUsage = false
        self.temperature = temperature
        self.topP = topP
        seed = nil
        self.stop = stop
        ignoreEOS = false
    }

    private init(endpoint: Endpoint, model: String, input: PromptInput, sampling: SamplingFields) throws(APIError) {
        self.endpoint = endpoint
        self.model = model
        self.input = input
        for (name, value) in [
            ("max_tokens", sampling.maxTokens), ("max_completion_tokens", sampling.maxCompletionTokens),
        ] {
            if let value, value < 1 {
                throw .invalidRequest(
                    "Invalid '\(name)': integer below minimum value. Expected a value >= 1, but got \(value) instead.",
                    param: name, code: "integer_below_min_value")
            }
        }
        maxTokens = sampling.maxCompletionTokens ?? sampling.maxTokens
        stream = sampling.stream ?? false
        includeUsage = stream && (sampling.streamOptions?.includeUsage ?? false)
        if let temperature = sampling.temperature, !(0...2).contains(temperature) {
            throw .invalidRequest(
                "Invalid 'temperature': expected a value between 0 and 2, but got \(temperature) instead.",
                param: "temperature", code: "invalid_value")
        }
        temperature = sampling.temperature
        if let topP = sampling.topP, !(0...1).contains(topP) {
            throw .invalidRequest(
                "Invalid 'top_p': expected a value between 0 and 1, but got \(topP) instead.", param: "top_p",
                code: "invalid_value")
        }
        topP = sampling.topP
        if let n = sampling.n, n != 1 {
            throw .invalidRequest("Only n = 1 is supported, but got \(n).", param: "n", code: "unsupported_value")
        }
        seed = sampling.seed.map { UInt64(bitPattern: Int64($0)) }
        let stop = (sampling.stop?.sequences ?? []).filter { !$0.isEmpty }
        guard stop.count <= 4 else {
            throw .invalidRequest(
                "'stop' takes at most 4 sequences, but got \(stop.count).", param: "stop", code: "invalid_value")
        }
        self.stop = stop
        ignoreEOS = sampling.ignoreEOS ?? false
    }
}
