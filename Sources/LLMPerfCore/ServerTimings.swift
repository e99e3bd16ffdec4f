import Foundation

/// The server's own account of where one request's time went, as it reported it in the
/// response: Ollama's durations (its API reference: `total_duration`, `load_duration`,
/// `prompt_eval_duration`, `eval_duration`, in nanoseconds) and llama.cpp's `timings`
/// (`prompt_ms`, `predicted_ms`, `draft_n`, `draft_n_accepted`). A field the server did not
/// report is nil. The bundled server (`llmperf serve`) reports every phase of its side in
/// order — preprocessing, queue wait, prefill, decode, postprocessing — whose sum is its
/// end-to-end (`totalNanos`). Stored beside the client's own stamps, so a run shows how much of the latency
/// the server claims (`server_prompt`, `server_generation`, `server_total`) and how much lies
/// outside it (queueing, the network, the client).
public struct ServerTimings: Sendable, Equatable, Codable {
    /// Processing the prompt (prefill): Ollama `prompt_eval_duration`, llama.cpp `timings.prompt_ms`.
    public var promptNanos: UInt64?
    /// Generating the output: Ollama `eval_duration`, llama.cpp `timings.predicted_ms`.
    public var generationNanos: UInt64?
    /// The whole request as the server timed it: Ollama `total_duration`.
    public var totalNanos: UInt64?
    /// Loading the model for this request: Ollama `load_duration`.
    public var loadNanos: UInt64?
    /// Speculative decoding: tokens drafted and accepted (llama.cpp `timings.draft_n`,
    /// `timings.draft_n_accepted`).
    public var draftTokens: Int?
    public var draftAcceptedTokens: Int?
    /// Waiting for a place in the running batch (arrival of the prepared request → admitted):
    /// the bundled server's `timings.queue_ms`.
    public var queueNanos: UInt64?
    /// Reading the request, applying the chat template and tokenizing (`timings.preprocess_ms`).
    public var preprocessNanos: UInt64?
    /// After the last token: the final event's rendering (`timings.postprocess_ms`).
    public var postprocessNanos: UInt64?
    /// Prompt tokens served from the server's prefix cache (llama.cpp's `timings.cache_n`).
    public var cachedTokens: Int?
    /// How many sequences shared the forward passes of this request, on average (`timings.batch_size`).
    public var batchSize: Double?

    public init(
        promptNanos: UInt64? = nil, generationNanos: UInt64? = nil, totalNanos: UInt64? = nil,
        loadNanos: UInt64? = nil, draftTokens: Int? = nil, draftAcceptedTokens: Int? = nil,
        queueNanos: UInt64? = nil, preprocessNanos: UInt64? = nil, postprocessNanos: UInt64? = nil,
        cachedTokens: Int? = nil, batchSize: Double? = nil
    ) {
        self.promptNanos = promptNanos
        self.generationNanos = generationNanos
        self.totalNanos = totalNanos
        self.loadNanos = loadNanos
        self.draftTokens = draftTokens
        self.draftAcceptedTokens = draftAcceptedTokens
        self.queueNanos = queueNanos
        self.preprocessNanos = preprocessNanos
        self.postprocessNanos = postprocessNanos
        self.cachedTokens = cachedTokens
        self.batchSize = batchSize
    }

    /// Nothing was reported.
    public var isEmpty: Bool { self == ServerTimings() }

    /// Nanoseconds from a reported number of milliseconds (llama.cpp's floats); nil for a
    /// negative, infinite or absurd value (over a day), which is no duration.
    public static func nanos(milliseconds: Double) -> UInt64? {
        guard milliseconds.isFinite, milliseconds >= 0, milliseconds < 86_400_000 else { return nil }
        return UInt64((milliseconds * 1_000_000).rounded())
    }

    /// Nanoseconds from a reported integer count of nanoseconds (Ollama's); nil when negative.
    public static func nanos(reported: Int) -> UInt64? { reported >= 0 ? UInt64(reported) : nil }

    /// Fields of `other` that are set replace these (a stream's last object carries them).
    public mutating func merge(_ other: ServerTimings) {
        if let v = other.promptNanos { promptNanos = v }
        if let v = other.generationNanos { generationNanos = v }
        if let v = other.totalNanos { totalNanos = v }
        if let v = other.loadNanos { loadNanos = v }
        if let v = other.draftTokens { draftTokens = v }
        if let v = other.draftAcceptedTokens { draftAcceptedTokens = v }
        if let v = other.queueNanos { queueNanos = v }
        if let v = other.preprocessNanos { preprocessNanos = v }
        if let v = other.postprocessNanos { postprocessNanos = v }
        if let v = other.cachedTokens { cachedTokens = v }
        if let v = other.batchSize { batchSize = v }
    }
}
