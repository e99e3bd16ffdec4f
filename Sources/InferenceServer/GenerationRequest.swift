/// One request handed to the inference loop.
public struct GenerationRequest: Sendable {
    /// Correlation id (the client's `x-request-id`, else the completion id).
    public var requestID: String
    public var prompt: PreparedPrompt
    /// Upper bound on completion tokens; already checked against the context length.
    public var maxTokens: Int
    /// True when the client gave `max_tokens`/`max_completion_tokens`; false when `maxTokens` is the server default.
    public var maxTokensRequested: Bool
    public var temperature: Double?
    public var topP: Double?
    public var seed: UInt64?
    /// Keep generating past end-of-sequence tokens until `maxTokens` (the `ignore_eos` request field).
    public var ignoreEOS: Bool
    /// When the request arrived (CLOCK_MONOTONIC nanoseconds); engines that simulate latency count from here.
    public var arrivalNanos: UInt64
    /// The request came to `/v1/chat/completions`, whose answers may carry reasoning and tool calls
    /// (`GeneratedPiece.Kind`); a text completion takes text only.
    public var isChat: Bool
    /// Where the engine stamps the request's admission, tokens and batch sizes (nil: nobody asks).
    public var timeline: RequestTimeline?

    public init(
        requestID: String, prompt: PreparedPrompt, maxTokens: Int, maxTokensRequested: Bool, temperature: Double?,
        topP: Double?, seed: UInt64?, ignoreEOS: Bool = false, arrivalNanos: UInt64, isChat: Bool = false,
        timeline: RequestTimeline? = nil
    ) {
        self.timeline = timeline
        self.requestID = requestID
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.maxTokensRequested = maxTokensRequested
        self.temperature = temperature
        self.topP = topP
        self.seed = seed
        self.ignoreEOS = ignoreEOS
        self.arrivalNanos = arrivalNanos
        self.isChat = isChat
    }
}
