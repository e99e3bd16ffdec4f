/// One `POST /v1/embeddings` request handed to the engine: its inputs, prepared (tokenized or checked) by
/// `ServingEngine.prepareEmbedding` and already within the context.
public struct EmbeddingRequest: Sendable {
    public var prompts: [PreparedPrompt]
    /// When the request arrived (CLOCK_MONOTONIC nanoseconds); engines that simulate latency count from here.
    public var arrivalNanos: UInt64

    public init(prompts: [PreparedPrompt], arrivalNanos: UInt64) {
        self.prompts = prompts
        self.arrivalNanos = arrivalNanos
    }
}
