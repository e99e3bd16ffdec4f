import NIOCore

/// The JSON body of Ollama's `POST /api/chat` and `POST /api/generate` (Ollama's API reference,
/// github.com/ollama/ollama docs/api.md), as sent; `OllamaParameters` validates it. Fields the server has
/// no use for (`format`, `keep_alive`, `images`, `context`, `raw`, `template`, a tool's definition, most
/// `options`) are accepted and ignored.
struct OllamaRequestBody: Decodable, Sendable {
    var model: String
    var messages: [Message]?
    var prompt: String?
    var system: String?
    var stream: Bool?
    var think: Think?
    var tools: [Tool]?
    var options: Options?

    struct Message: Decodable, Sendable {
        var role: String
        var content: String?
    }

    /// `true`/`false`, or a level (`"low"`, `"medium"`, `"high"`) for the models that take one.
    enum Think: Decodable, Sendable, Equatable {
        case enabled(Bool)
        case level(String)

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let flag = try? container.decode(Bool.self) {
                self = .enabled(flag)
            } else {
                self = .level(try container.decode(String.self))
            }
        }
    }

    struct Tool: Decodable, Sendable {
        var type: String?
    }

    struct Options: Decodable, Sendable {
        var numPredict: Int?
        var temperature: Double?
        var topP: Double?
        var seed: Int?
        var stop: [String]?

        private enum CodingKeys: String, CodingKey {
            case numPredict = "num_predict"
            case temperature
            case topP = "top_p"
            case seed, stop
        }
    }
}

/// A validated Ollama request: the chat or text prompt path's `CompletionParameters` (`options.num_predict`
/// is `max_tokens`; -1 and -2, Ollama's "no limit" and "fill the context", leave it to the server) and
/// whether it asked to think.
struct OllamaParameters: Sendable {
    var completion: CompletionParameters
    /// `/api/chat` (else `/api/generate`).
    var isChat: Bool
    var think: OllamaRequestBody.Think?

    static let roles: Set<String> = ["system", "user", "assistant", "tool"]
    static let thinkLevels: Set<String> = ["low", "medium", "high"]

    init(_ body: OllamaRequestBody, chat: Bool) throws(APIError) {
        isChat = chat
        let input: PromptInput
        if chat {
            guard let messages = body.messages else {
                throw .invalidRequest("messages: required on /api/chat.", param: "messages")
            }
            guard !messages.isEmpty else {
                throw .invalidRequest("messages: at least one message is required.", param: "messages")
            }
            var conversation: [ChatMessage] = []
            for (index, message) in messages.enumerated() {
                guard Self.roles.contains(message.role) else {
                    throw .invalidRequest(
                        "messages[\(index)].role: unexpected role '\(message.role)'; expected system, user, "
                            + "assistant or tool.", param: "messages[\(index)].role")
                }
                conversation.append(ChatMessage(role: message.role, content: message.content ?? ""))
            }
            input = .chat(conversation)
        } else {
            guard let prompt = body.prompt else {
                throw .invalidRequest("prompt: required on /api/generate.", param: "prompt")
            }
            guard !prompt.isEmpty else {
                throw .invalidRequest(
                    "prompt: must not be empty (an empty prompt only loads the model, which this server does not "
                        + "need).", param: "prompt")
            }
            if body.tools != nil {
                throw .invalidRequest("tools: /api/generate takes no tools; use /api/chat.", param: "tools")
            }
            input = .completion(body.system.map { $0 + "\n\n" + prompt } ?? prompt)
        }
        if case .level(let level) = body.think, !Self.thinkLevels.contains(level) {
            throw .invalidRequest(
                "think: expected true, false, or one of low, medium, high, got '\(level)'.", param: "think")
        }
        think = body.think
        let options = body.options
        var maxTokens: Int?
        if let n = options?.numPredict {
            guard n >= 1 || n == -1 || n == -2 else {
                throw .invalidRequest(
                    "options.num_predict: expected a count >= 1, or -1 (no limit) or -2 (fill the context), "
                        + "got \(n).", param: "options.num_predict")
            }
            if n >= 1 { maxTokens = n }
        }
        if let temperature = options?.temperature, !(0...2).contains(temperature) {
            throw .invalidRequest(
                "options.temperature: must be between 0 and 2, got \(temperature).", param: "options.temperature")
        }
        if let topP = options?.topP, !(0...1).contains(topP) {
            throw .invalidRequest("options.top_p: must be between 0 and 1, got \(topP).", param: "options.top_p")
        }
        var completion = CompletionParameters(
            messagesModel: body.model, conversation: [], maxTokens: 1,
            // Ollama streams unless told not to.
            stream: body.stream ?? true, temperature: options?.temperature, topP: options?.topP,
            stop: (options?.stop ?? []).filter { !$0.isEmpty })
        completion.endpoint = chat ? .chat : .completion
        completion.input = input
        completion.maxTokens = maxTokens
        completion.seed = options?.seed.map { UInt64(bitPattern: Int64($0)) }
        self.completion = completion
    }
}

extension RequestBodyDecoder {
    /// The body of `/api/chat` (`chat`) or `/api/generate`. Kept out of `RequestBodyDecoder.swift`, which
    /// the fuzz package compiles on its own.
    static func ollama(_ body: ByteBuffer, chat: Bool) throws(APIError) -> OllamaParameters {
        try OllamaParameters(decode(OllamaRequestBody.self, from: body), chat: chat)
    }
}
