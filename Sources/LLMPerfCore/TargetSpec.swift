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

    /// The path requests go to, under the target's base URL.
    public var endpointPath: String {
        switch self {
        case .openAIChat: return "/chat/completions"
        case .openAICompletions: return "/completions"
        case .anthropic: return "/messages"
        case .openAIResponses: return "/responses"
        case .ollama: return "/api/chat"
        case .ollamaGenerate: return "/api/generate"
        }
    }

    /// True for Ollama's native APIs, whose base URL is the server root (`http://127.0.0.1:11434`)
    /// rather than an OpenAI-style `…/v1`.
    public var isOllama: Bool { self == .ollama || self == .ollamaGenerate }

    /// Where this API lives on the bundled server (`llmperf serve`), under its root URL: `/v1` for the
    /// OpenAI and Anthropic APIs, the root itself for Ollama's.
    public var localBasePath: String { isOllama ? "" : "/v1" }
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

    /// The full URL requests go to: the base URL plus the API's path (`/chat/completions`,
    /// `/completions`, `/messages`, `/api/chat` or `/api/generate`), unless the base URL already ends
    /// with it.
    public func endpointURL(base: String) -> String {
        let path = api.endpointPath
        var trimmed = base
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        if trimmed.hasSuffix(path) { return trimmed }
        return trimmed + path
    }
}
