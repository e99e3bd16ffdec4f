import Foundation

/// One prompt as sent: an optional system message, the conversation so far, and the user text.
public struct Prompt: Sendable, Equatable, Codable {
    public var system: String?
    /// Earlier turns of the conversation, oldest first (a session's turns, or a dataset's
    /// recorded conversation before this turn); empty for a single-turn prompt.
    public var history: [ChatExchange]
    public var user: String
    /// This request's own output length (a dataset's recorded answer, a trace's output length),
    /// sent as the dialect's `max_tokens` together with its fixed-length flag where it has one
    /// (`ignore_eos`), so the server generates exactly that many tokens; nil: the workload's
    /// `max_tokens`.
    public var maxTokens: Int?

    public init(system: String? = nil, history: [ChatExchange] = [], user: String, maxTokens: Int? = nil) {
        self.system = system
        self.history = history
        self.user = user
        self.maxTokens = maxTokens
    }

    /// The prompt as one text, for APIs that take a single string (completions, llama.cpp's
    /// `/completion`, TGI, embeddings): the system text and the user text a blank line apart, as
    /// before; with history, the conversation as a transcript ("User: …", "Assistant: …") that
    /// ends with "Assistant:" for the model to continue.
    public var completionText: String {
        guard !history.isEmpty else {
            if let system { return system + "\n\n" + user }
            return user
        }
        var text = system.map { $0 + "\n\n" } ?? ""
        for exchange in history {
            text += "User: " + exchange.user + "\nAssistant: " + exchange.assistant + "\n"
        }
        text += "User: " + user + "\nAssistant:"
        return text
    }
}

/// One earlier turn of a conversation: what the user said and what the model answered.
public struct ChatExchange: Sendable, Equatable, Codable {
    public var user: String
    public var assistant: String

    public init(user: String, assistant: String) {
        self.user = user
        self.assistant = assistant
    }
}

extension WorkloadSpec {
    /// The output bound of a request carrying `prompt`: its own length, else `max_tokens`.
    public func maxTokens(for prompt: Prompt) -> Int? { prompt.maxTokens ?? maxTokens }

    /// Whether a request carrying `prompt` asks for a fixed length with `ignore_eos: true`: the
    /// prompt names its own output length and `extra_body` does not set `ignore_eos` already.
    public func sendsIgnoreEOS(for prompt: Prompt) -> Bool {
        prompt.maxTokens != nil && !extraBody.contains { $0.key == "ignore_eos" }
    }
}
