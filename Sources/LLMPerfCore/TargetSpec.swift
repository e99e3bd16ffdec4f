import Foundation

public enum APIKind: String, Sendable, Equatable, CaseIterable, Codable {
    case openAIChat = "openai-chat"
    case openAICompletions = "openai-completions"
    /// Anthropic's Messages API (`POST /v1/messages`).
    case anthropic
    /// OpenAI's Responses API (`POST /v1/responses`).
    case openAIResponses = "openai-responses"
    /// Ollama's native chat API (`POST /api/chat`), NDJSON streams.
    case ollama
    /// Ollama's native generate API (`POST /api/generate`), NDJSON streams.
    case ollamaGenerate = "ollama-generate"
    /// llama.cpp's native completion endpoint (`POST /completion` on llama-server).
    case llamaCpp = "llamacpp"
    /// Hugging Face Text Generation Inference's native endpoints (`POST /generate_stream`, or
    /// `POST /generate` for a workload with `stream: false`).
    case tgi
    /// OpenAI's Embeddings API (`POST /v1/embeddings`): not streamed, `workload.batch` inputs per
    /// request; measured by latency (`total`) and input tokens per second.
    case openAIEmbeddings = "openai-embeddings"

    /// The path requests go to, under the target's base URL (for TGI, a streamed workload's; see
    /// `endpointPath(stream:)`).
    public var endpointPath: String { endpointPath(stream: true) }

    /// The path a request goes to: TGI streams from `/generate_stream` and answers whole from
    /// `/generate`; the other APIs use one path either way.
    public func endpointPath(stream: Bool) -> String {
        switch self {
        case .openAIChat: return "/chat/completions"
        case .openAICompletions: return "/completions"
        case .anthropic: return "/messages"
        case .openAIResponses: return "/responses"
        case .ollama: return "/api/chat"
        case .ollamaGenerate: return "/api/generate"
        case .llamaCpp: return "/completion"
        case .tgi: return stream ? "/generate_stream" : "/generate"
        case .openAIEmbeddings: return "/embeddings"
        }
    }

    /// True for Ollama's native APIs, whose base URL is the server root (`http://127.0.0.1:11434`)
    /// rather than an OpenAI-style `…/v1`.
    public var isOllama: Bool { self == .ollama || self == .ollamaGenerate }

    /// Whether the API's paths sit under the OpenAI-style `/v1` prefix (OpenAI, Anthropic) or at
    /// the server's root (Ollama's, llama.cpp's and TGI's native endpoints). The local backend serves both.
    public var servedUnderV1: Bool {
        switch self {
        case .openAIChat, .openAICompletions, .anthropic, .openAIResponses, .openAIEmbeddings: return true
        case .ollama, .ollamaGenerate, .llamaCpp, .tgi: return false
        }
    }

    /// Whether requests carry `model` (llama.cpp's and TGI's native ones do not: a scenario need not
    /// name one).
    public var sendsModel: Bool { self != .llamaCpp && self != .tgi }

    /// Whether the API generates text (every one but embeddings): it streams, and takes
    /// `max_tokens` and `temperature`.
    public var generates: Bool { self != .openAIEmbeddings }

    /// Whether the API takes `workload.reasoning`, `tools` and `tool_choice` (each in its own fields).
    public var takesToolsAndReasoning: Bool {
        switch self {
        case .openAIChat, .openAIResponses, .anthropic, .ollama, .ollamaGenerate: return true
        case .openAICompletions, .llamaCpp, .tgi, .openAIEmbeddings: return false
        }
    }

    /// The base URL of a local backend for this API, from its `…/v1` base.
    public func localBaseURL(fromV1Base base: String) -> String {
        guard !servedUnderV1, base.hasSuffix("/v1") else { return base }
        return String(base.dropLast(3))
    }
}

public enum ConnectionPolicy: String, Sendable, Equatable, CaseIterable, Codable {
    /// Keep connections alive and reuse them (HTTP/2 multiplexes).
    case reuse
    /// A fresh connection for every request: DNS, TCP and TLS are paid and measured each time.
    case new
}

public enum HTTPVersionPreference: String, Sendable, Equatable, CaseIterable, Codable {
    case http1_1 = "1.1"
    case http2 = "2"
}

public struct TargetSpec: Sendable, Equatable {
    /// Base URL of a remote endpoint (e.g. `https://api.example.com/v1`); nil for a local backend.
    public var url: String?
    /// `url` as it may be stored and shown: the template as written (`${VAR}` unexpanded) when it
    /// named a variable, since a variable's value may be a secret (a password in the URL).
    public var shownURL: String?
    public var backend: LocalBackendSpec?
    public var api: APIKind
    /// The `model` field sent in each request.
    public var model: String
    public var headers: [HeaderSpec]
    public var tls: TLSOptions
    public var connection: ConnectionPolicy
    public var http: HTTPVersionPreference
    public var timeouts: Timeouts
    /// Scrape the server's Prometheus endpoint during the run (`target.metrics`); nil: no scraping.
    public var metrics: MetricsScrapeSpec?

    public init(
        url: String? = nil, backend: LocalBackendSpec? = nil, api: APIKind = .openAIChat,
        model: String = "default", headers: [HeaderSpec] = [], tls: TLSOptions = TLSOptions(),
        connection: ConnectionPolicy = .reuse, http: HTTPVersionPreference = .http1_1,
        timeouts: Timeouts = Timeouts()
    ) {
        self.url = url
        self.shownURL = url
        self.backend = backend
        self.api = api
        self.model = model
        self.headers = headers
        self.tls = tls
        self.connection = connection
        self.http = http
        self.timeouts = timeouts
    }

    /// An http or https URL with a host: what a target, a metrics endpoint or `--target` must be.
    public static func isHTTPURL(_ text: String) -> Bool {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host
        else { return false }
        return !host.isEmpty
    }

    /// The full URL requests go to: the base URL plus the API's path (`/chat/completions`,
    /// `/completions`, `/messages`, `/responses`, `/api/chat`, `/api/generate`, `/completion`,
    /// `/generate_stream`, `/generate` or `/embeddings`), unless the
    /// base URL already ends with it. `stream` picks TGI's path; the other APIs have one.
    public func endpointURL(base: String, stream: Bool = true) -> String {
        let path = api.endpointPath(stream: stream)
        var trimmed = base
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        if trimmed.hasSuffix(path) { return trimmed }
        if api == .tgi {
            // A base URL written with TGI's other path still reaches this workload's path.
            let other = api.endpointPath(stream: !stream)
            if trimmed.hasSuffix(other) { trimmed.removeLast(other.count) }
        }
        return trimmed + path
    }
}
