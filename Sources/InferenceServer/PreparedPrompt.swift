/// A prompt after templating and tokenization: what the inference loop consumes.
public struct PreparedPrompt: Sendable, Equatable {
    /// The templated prompt text.
    public var text: String
    /// Token ids, when the engine tokenizes for real (empty for the synthetic engine).
    public var tokenIDs: [Int32]
    /// Prompt tokens as reported in `usage.prompt_tokens`.
    public var tokenCount: Int

    public init(text: String, tokenIDs: [Int32] = [], tokenCount: Int) {
        self.text = text
        self.tokenIDs = tokenIDs
        self.tokenCount = tokenCount
    }
}
