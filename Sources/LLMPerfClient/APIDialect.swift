import LLMPerfCore

/// How a response stream is framed on the wire.
public enum StreamFraming: Sendable {
    /// `text/event-stream` (OpenAI, Anthropic, TGI, llama.cpp).
    case serverSentEvents
    /// `application/x-ndjson`: one JSON object per line (Ollama); each line is handed to
    /// `decodeStreamEvent` as its data, with an empty name.
    case newlineDelimitedJSON
}

/// One API's request and response format: OpenAI chat, completions and Responses, Anthropic Messages,
/// Ollama's chat and generate, llama.cpp's `/completion`, TGI's `/generate_stream` and OpenAI's
/// embeddings.
public protocol APIDialect: Sendable {
    var kind: APIKind { get }
    var streamFraming: StreamFraming { get }
    /// The JSON body of one request.
    func requestBody(prompt: Prompt, workload: WorkloadSpec, model: String) -> [UInt8]
    /// The JSON body of one request carrying several inputs (`workload.batch`, the embeddings
    /// API); an API that takes one input per request sends the first.
    func requestBody(prompts: [Prompt], workload: WorkloadSpec, model: String) -> [UInt8]
    /// One streamed event (its `event:` name, possibly empty, and its data), recorded into
    /// `response` at `response.eventAtNanos`.
    func decodeStreamEvent(
        name: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer, into response: inout ResponseAccumulator)
    /// A complete non-streaming body, received at `response.eventAtNanos`.
    func decodeBody(_ body: UnsafeRawBufferPointer, into response: inout ResponseAccumulator)
    /// True when a streamed response that ended cleanly is complete (OpenAI: `[DONE]` or a
    /// `finish_reason` arrived); false means the stream was cut.
    func streamIsComplete(_ response: ResponseAccumulator) -> Bool
    /// Header lines this API needs on every request (`anthropic-version: …`); a scenario header
    /// of the same name replaces one.
    var defaultHeaderLines: [String] { get }
}

extension APIDialect {
    public var defaultHeaderLines: [String] { [] }

    public func requestBody(prompts: [Prompt], workload: WorkloadSpec, model: String) -> [UInt8] {
        requestBody(prompt: prompts[0], workload: workload, model: model)
    }
}

extension APIKind {
    /// The dialect that speaks this API.
    public var dialect: any APIDialect {
        switch self {
        case .openAIChat: return OpenAIChatDialect()
        case .openAICompletions: return OpenAICompletionsDialect()
        case .anthropic: return AnthropicDialect()
        case .openAIResponses: return OpenAIResponsesDialect()
        case .ollama, .ollamaGenerate: return OllamaDialect(kind: self)
        case .llamaCpp: return LlamaCppDialect()
        case .tgi: return TGIDialect()
        case .openAIEmbeddings: return OpenAIEmbeddingsDialect()
        }
    }
}
