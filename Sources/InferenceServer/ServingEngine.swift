/// The seam between the HTTP layer and whatever produces tokens.
///
/// HTTP handlers only parse, tokenize and template (through `prepare`) and stream what
/// `generate` yields; one inference loop behind the engine owns the model. An engine that
/// batches requests (continuous batching), reuses KV state (prefix cache), answers from a
/// response cache or decodes speculatively does so behind `generate`, and reports what it
/// did through `GenerationStream.responseHeaders` and `GenerationFinish.usageDetails`.
public protocol ServingEngine: Sendable {
    /// The name clients must send as `model` (and `/v1/models` lists).
    var modelName: String { get }
    /// Prompt plus completion tokens may not exceed this.
    var contextLength: Int { get }
    /// Requests waiting for and holding a slot in the inference loop, for `/metrics`.
    var schedulerLoad: SchedulerLoad { get }
    /// Completion length when the request sets no `max_tokens`.
    func defaultMaxTokens(promptTokens: Int) -> Int
    /// Tokenizes and templates a prompt. Throws `APIError` for input the model cannot take.
    func prepare(_ input: PromptInput) throws -> PreparedPrompt
    /// Starts generating. Called once per request; the stream is iterated at most once.
    func generate(_ request: GenerationRequest) -> GenerationStream
    /// The width of the vectors `embed` returns; 0 when the engine serves no embeddings.
    var embeddingWidth: Int { get }
    /// Tokenizes one `/v1/embeddings` input (raw text, no chat template) or checks its token ids. Throws
    /// `APIError` (naming `input.param`) for input the model cannot take.
    func prepareEmbedding(_ input: EmbeddingInput) throws -> PreparedPrompt
    /// One unit-length vector of `embeddingWidth` values per prompt, in the request's order.
    func embed(_ request: EmbeddingRequest) async throws -> [[Float]]
    /// Prometheus text-format lines (with their `# HELP`/`# TYPE` lines, each line ending in a newline)
    /// that `/metrics` appends after the server's own; "" when the engine exports nothing.
    var metricsText: String { get }
    /// The server is stopping: finish or answer what the engine holds (nothing may be left waiting) and end its
    /// threads. Returns at once; called once, before the server stops accepting.
    func shutdown()
}

/// How busy the inference loop is.
public struct SchedulerLoad: Sendable, Equatable {
    public var waiting: Int
    public var running: Int

    public init(waiting: Int, running: Int) {
        self.waiting = waiting
        self.running = running
    }
}

extension ServingEngine {
    public var schedulerLoad: SchedulerLoad { SchedulerLoad(waiting: 0, running: 0) }
    /// Whatever room the context leaves.
    public func defaultMaxTokens(promptTokens: Int) -> Int { max(0, contextLength - promptTokens) }
    public var metricsText: String { "" }
    public var embeddingWidth: Int { 0 }
    public func prepareEmbedding(_ input: EmbeddingInput) throws -> PreparedPrompt {
        throw APIError.embeddingsUnsupported(modelName)
    }
    public func embed(_ request: EmbeddingRequest) async throws -> [[Float]] {
        throw APIError.embeddingsUnsupported(modelName)
    }
    /// Nothing to stop by default.
    public func shutdown() {}
}
