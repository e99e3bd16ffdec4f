import Logging

/// Everything `llmperf serve` can set.
public struct ServerConfiguration: Sendable {
    /// Which engine answers.
    public enum Engine: Sendable {
        /// Deterministic tokens at configured timing (see `SyntheticEngine`).
        case synthetic(SyntheticEngine.Configuration)
        /// Any other engine, built after the server is listening (`/health` answers 503 until it returns).
        case custom(@Sendable () async throws -> any ServingEngine)
    }

    /// Address to bind; default 127.0.0.1.
    public var host: String
    /// Port to bind; 0 picks a free one (reported to `onReady`).
    public var port: Int
    public var engine: Engine
    /// PEM files; both set → HTTPS.
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    /// Where to write per-event send times (see `TraceRecorder`); nil → no trace.
    public var tracePath: String?
    /// Request bodies above this get 413.
    public var maxBodyBytes: Int
    /// A connection is closed when a request head takes longer than this to arrive (from the connection's
    /// start or the end of the previous response: it also bounds an idle keep-alive connection), or when a
    /// request body stops arriving for this long.
    public var headerTimeout: Duration
    /// Faults to inject into completion responses (see `ServerFault`); nil = healthy, though a request can
    /// still ask for one with the `x-llmperf-fault` header.
    public var faults: FaultConfiguration?
    /// `--api-key`: when set, the completion endpoints require it (`Authorization: Bearer KEY` on OpenAI's,
    /// `x-api-key: KEY` on `/v1/messages`); `/health`, `/ready`, `/metrics` and `/v1/models` stay open.
    public var apiKey: String?
    /// How long SIGINT/SIGTERM waits for in-flight responses before cancelling them.
    public var shutdownGracePeriod: Duration
    public var logLevel: Logger.Level

    public init(
        host: String = "127.0.0.1", port: Int = 8080, engine: Engine = .synthetic(.init()),
        tlsCertificatePath: String? = nil, tlsKeyPath: String? = nil, tracePath: String? = nil,
        maxBodyBytes: Int = 8 << 20, headerTimeout: Duration = .seconds(60), faults: FaultConfiguration? = nil,
        shutdownGracePeriod: Duration = .seconds(5), logLevel: Logger.Level = .warning, apiKey: String? = nil
    ) {
        self.host = host
        self.port = port
        self.engine = engine
        self.tlsCertificatePath = tlsCertificatePath
        self.tlsKeyPath = tlsKeyPath
        self.tracePath = tracePath
        self.maxBodyBytes = maxBodyBytes
        self.headerTimeout = headerTimeout
        self.faults = faults
        self.shutdownGracePeriod = shutdownGracePeriod
        self.logLevel = logLevel
        self.apiKey = apiKey
    }

    /// The synthetic engine with the given timing (milliseconds), default completion length and chat answer
    /// shape (reasoning tokens, tool calls).
    public static func synthetic(
        ttftMs: Double = 0, itlMs: Double = 0, tokens: Int = 128, modelName: String = "synthetic",
        contextLength: Int = 1 << 20, reasoningTokens: Int = 0, toolCalls: Bool = false
    ) -> Engine {
        .synthetic(
            .init(
                modelName: modelName, ttftMs: ttftMs, itlMs: itlMs, defaultTokens: tokens, contextLength: contextLength,
                reasoningTokens: reasoningTokens, toolCalls: toolCalls))
    }
}
