import Foundation

/// Everything the transport recorded about one request. Times are monotonic nanoseconds
/// measured from the run's origin (`…AtNanos`), except the libcurl connection phases, which
/// are cumulative durations from the request's own start (`…Nanos`), exactly as libcurl
/// reports them. Metrics are derived from this (see `Metric`), never stored as the only copy.
public struct RequestTrace: Sendable, Equatable, Codable {
    /// Position of the request in the run (warmup requests included), from 0.
    public var index: Int
    /// Warmup requests are stored but kept out of every statistic.
    public var isWarmup: Bool
    /// Which prompt of the workload was sent.
    public var promptIndex: Int
    /// Open loop: when the schedule wanted the request sent. Nil in a closed loop.
    public var scheduledAtNanos: UInt64?
    /// When libcurl began the request: the moment just before it wrote the request, less its
    /// own connection setup (so the phases below start here too); the moment it was handed to
    /// the transport when it was never written.
    public var startedAtNanos: UInt64
    /// libcurl NAMELOOKUP, CONNECT, APPCONNECT, PRETRANSFER, STARTTRANSFER: cumulative
    /// durations from `startedAtNanos`; 0 for a phase that did not happen (reused connection)
    /// and 0 (with `timingKnown` false) when libcurl could not report them.
    public var dnsNanos: UInt64
    public var connectNanos: UInt64
    public var tlsNanos: UInt64
    public var sentNanos: UInt64
    public var firstByteNanos: UInt64?
    /// Arrival time of every content chunk (one that carried output text).
    public var chunkAtNanos: [UInt64]
    /// Output tokens in each content chunk: 1, unless the server's `usage` reported more tokens
    /// than chunks arrived; they are then apportioned over the chunks (see the README's
    /// failure table, `multi_token_events`).
    public var chunkTokens: [UInt32]
    /// Which content chunks carried reasoning only (`reasoning_content`, `reasoning`), by index
    /// like `chunkAtNanos`; empty when none did (an answer without visible reasoning). A chunk
    /// that carried answer text or a tool call is an answer chunk, reasoning or not.
    public var chunkReasoning: [Bool]
    /// Stream finished (`[DONE]`, close or failure).
    public var endedAtNanos: UInt64
    /// Token counts as the server reported them in `usage`, if it did.
    public var usage: TokenUsage?
    public var outcome: RequestOutcome
    public var connection: ConnectionInfo
    /// HTTP status of the response, 0 when none arrived.
    public var httpStatus: Int
    /// The generated text (truncated to a few KiB), for reports.
    public var outputText: String
    /// False when libcurl's timing reads failed: `dnsNanos`, `connectNanos`, `tlsNanos`,
    /// `sentNanos` and `firstByteNanos` are then unknown (not 0 ms, not a reused connection),
    /// and the dns, tcp, tls and ttfb metrics have no value for this request.
    public var timingKnown: Bool
    /// The server's own timings of the request, when its response reported them (Ollama's
    /// durations, llama.cpp's `timings`); nil when it reported none.
    public var serverTimings: ServerTimings?
    /// The session turn the request was (`workload.sessions`); nil for a request on its own.
    public var session: SessionTurn?
    /// Tokens of the earlier turns the request carried (a session turn's history; 0 on a first turn).
    public var historyTokens: Int?
    /// The shard that sent it, in a sharded or merged run (`ShardSpec`, `llmperf merge`); nil otherwise.
    public var shard: Int?
    /// The answer's tokens by the run's tokenizer, counted by the client when the response had no
    /// usage (nil otherwise, or without a tokenizer).
    public var tokenizerOutputTokens: Int?

    public init(
        index: Int, isWarmup: Bool = false, promptIndex: Int = 0, scheduledAtNanos: UInt64? = nil,
        startedAtNanos: UInt64, dnsNanos: UInt64 = 0, connectNanos: UInt64 = 0, tlsNanos: UInt64 = 0,
        sentNanos: UInt64 = 0, firstByteNanos: UInt64? = nil, chunkAtNanos: [UInt64] = [],
        chunkTokens: [UInt32] = [], chunkReasoning: [Bool] = [], endedAtNanos: UInt64, usage: TokenUsage? = nil,
        outcome: RequestOutcome = .ok, connection: ConnectionInfo = ConnectionInfo(),
        httpStatus: Int = 0, outputText: String = "", timingKnown: Bool = true,
        serverTimings: ServerTimings? = nil, session: SessionTurn? = nil, historyTokens: Int? = nil,
        tokenizerOutputTokens: Int? = nil
    ) {
        self.tokenizerOutputTokens = tokenizerOutputTokens
        self.index = index
        self.isWarmup = isWarmup
        self.promptIndex = promptIndex
        self.scheduledAtNanos = scheduledAtNanos
        self.startedAtNanos = startedAtNanos
        self.dnsNanos = dnsNanos
        self.connectNanos = connectNanos
        self.tlsNanos = tlsNanos
        self.sentNanos = sentNanos
        self.firstByteNanos = firstByteNanos
        self.chunkAtNanos = chunkAtNanos
        self.chunkTokens = chunkTokens
        self.chunkReasoning = chunkReasoning
        self.endedAtNanos = endedAtNanos
        self.usage = usage
        self.outcome = outcome
        self.connection = connection
        self.httpStatus = httpStatus
        self.outputText = outputText
        self.timingKnown = timingKnown
        self.serverTimings = serverTimings
        self.session = session
        self.historyTokens = historyTokens
    }

    /// Output tokens: the server's `usage` when it sent one, else the sum of chunk tokens.
    public var outputTokens: Int {
        if let reported = usage?.completionTokens { return reported }
        if let counted = tokenizerOutputTokens { return counted }
        return chunkTokens.reduce(0) { $0 + Int($1) }
    }

    public var outputTokenSource: TokenCountSource {
        if usage?.completionTokens != nil { return .usage }
        return tokenizerOutputTokens != nil ? .tokenizer : .chunks
    }

    public var inputTokens: Int? { usage?.promptTokens }

    // MARK: reasoning

    /// Whether chunk `index` carried reasoning only.
    @inline(__always) public func isReasoningChunk(_ index: Int) -> Bool {
        index < chunkReasoning.count && chunkReasoning[index]
    }

    /// Some chunk carried visible reasoning.
    public var hasReasoningChunks: Bool { chunkReasoning.contains(true) }

    /// The first chunk that carried answer text or a tool call; nil when none arrived. Without
    /// visible reasoning, the first chunk.
    public var firstAnswerChunkIndex: Int? {
        if chunkReasoning.isEmpty { return chunkAtNanos.isEmpty ? nil : 0 }
        return chunkAtNanos.indices.first { !isReasoningChunk($0) }
    }

    /// Reasoning tokens: the server's `usage` (`completion_tokens_details.reasoning_tokens`) when
    /// it reported them, else the tokens of the reasoning chunks; nil when the request shows no
    /// reasoning at all (a model that does not reason).
    public var reasoningTokens: Int? {
        if let reported = usage?.reasoningTokens { return reported }
        guard hasReasoningChunks else { return nil }
        var total = 0
        for index in chunkAtNanos.indices where isReasoningChunk(index) {
            total += index < chunkTokens.count ? Int(chunkTokens[index]) : 1
        }
        return total
    }

    /// Output tokens that are not reasoning; nil when the request shows no reasoning.
    public var answerTokens: Int? { reasoningTokens.map { max(0, outputTokens - $0) } }

    /// Reasoning tokens the server counted but never streamed (a model that reasons without
    /// showing it): `usage`'s reasoning tokens when no reasoning chunk arrived, else 0.
    public var hiddenReasoningTokens: Int { hasReasoningChunks ? 0 : usage?.reasoningTokens ?? 0 }

    /// Output tokens that streamed, the chunks' share of `outputTokens`: hidden reasoning left out.
    public var streamedTokens: Int { max(0, outputTokens - hiddenReasoningTokens) }

    public var succeeded: Bool { outcome == .ok }
}

/// Where an output token count came from.
public enum TokenCountSource: String, Sendable, Codable {
    /// The server's `usage` object.
    case usage
    /// The number of content chunks (an estimate: a chunk may hold several tokens).
    case chunks
    /// The run's tokenizer (`workload.tokenizer`) over the answer's text, when there was no usage.
    case tokenizer
}

public struct TokenUsage: Sendable, Equatable, Codable {
    public var promptTokens: Int?
    public var completionTokens: Int?
    /// `usage.prompt_tokens_details.cached_tokens`, when the server reports prefix-cache hits.
    public var cachedTokens: Int?
    /// `usage.completion_tokens_details.reasoning_tokens` (of `completionTokens`), when reported.
    public var reasoningTokens: Int?

    public init(
        promptTokens: Int? = nil, completionTokens: Int? = nil, cachedTokens: Int? = nil, reasoningTokens: Int? = nil
    ) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cachedTokens = cachedTokens
        self.reasoningTokens = reasoningTokens
    }
}

/// Facts about the connection a request used.
public struct ConnectionInfo: Sendable, Equatable, Codable {
    /// True when libcurl reused an open connection (no DNS, TCP or TLS was paid).
    public var reused: Bool
    /// "1.0", "1.1", "2", "3" or "" when unknown.
    public var httpVersion: String
    /// "ip:port" of the peer, "" when unknown.
    public var remoteAddress: String

    public init(reused: Bool = false, httpVersion: String = "", remoteAddress: String = "") {
        self.reused = reused
        self.httpVersion = httpVersion
        self.remoteAddress = remoteAddress
    }
}
