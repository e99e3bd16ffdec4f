/// What a request asks the engine to continue, before tokenization and templating.
public enum PromptInput: Sendable, Equatable {
    /// `/v1/chat/completions`: the conversation so far.
    case chat([ChatMessage])
    /// `/v1/completions`: raw text.
    case completion(String)
}

/// One chat message; content parts are already flattened to text.
public struct ChatMessage: Sendable, Equatable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}
