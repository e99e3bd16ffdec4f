import LLMPerfCore

/// What a dialect extracts from one response as it streams in: content chunks with their
/// arrival times, the output text (capped), the server's `usage`, end-of-stream markers and
/// the first failure. Small by design: one exists per transfer in flight.
public struct ResponseAccumulator: Sendable {
    /// Longest `outputText` kept, in UTF-8 bytes.
    public static let textCapBytes = 4096
    /// This response's cap (`TransportRequest.textCapBytes`).
    public var textCap = textCapBytes

    /// Arrival time (run-origin nanoseconds) of every content chunk.
    public internal(set) var chunkAtNanos: [UInt64] = []
    /// Output tokens per content chunk.
    public internal(set) var chunkTokens: [UInt32] = []
    /// Per content chunk, whether it carried reasoning only; empty until the first such chunk
    /// (an answer without visible reasoning allocates nothing).
    public internal(set) var chunkReasoning: [Bool] = []
    public internal(set) var text: [UInt8] = []
    public internal(set) var textTruncated = false
    public internal(set) var usage: TokenUsage?
    /// The server's own timings, when the response reported them (Ollama, llama.cpp).
    public var serverTimings: ServerTimings? { reportedTimings.first }
    /// At most one: kept out of line so that the accumulator, touched for every event, stays small.
    private var reportedTimings: [ServerTimings] = []
    /// `data: [DONE]` arrived.
    public internal(set) var sawDone = false
    /// A choice carried a non-null `finish_reason`.
    public internal(set) var sawFinish = false
    /// The first failure the response itself revealed (malformed event, error object).
    public internal(set) var failureKind: FailureKind?
    public internal(set) var failureDetail = ""

    /// Inputs the request sent (`workload.batch` for the embeddings API; 1 otherwise): the answer
    /// must hold as many embeddings.
    public var expectedInputs = 1

    /// Time stamped on content recorded next (set by the transport before each decode).
    public var eventAtNanos: UInt64 = 0
    /// Decoded content of the event being processed (scratch space, reused).
    var scratch: [UInt8] = []

    public init() {}

    public var outputText: String { String(decoding: text, as: UTF8.self) }

    /// `text` cut to `textCapBytes` of UTF-8 at a character boundary, as a trace stores it.
    public static func capped(_ text: String) -> String {
        guard text.utf8.count > textCapBytes else { return text }
        var accumulator = ResponseAccumulator()
        accumulator.appendText(Array(text.utf8))
        return accumulator.outputText
    }

    public var contentChunkCount: Int { chunkAtNanos.count }

    /// Records the content held in `scratch` as one chunk of `tokens` tokens at `eventAtNanos`;
    /// `reasoning` when it carried reasoning only (no answer text, no tool call).
    mutating func recordScratchContent(tokens: UInt32, reasoning: Bool = false) {
        if reasoning && chunkReasoning.isEmpty {
            chunkReasoning = [Bool](repeating: false, count: chunkAtNanos.count)
        }
        if reasoning || !chunkReasoning.isEmpty { chunkReasoning.append(reasoning) }
        chunkAtNanos.append(eventAtNanos)
        chunkTokens.append(tokens)
        appendText(scratch)
    }

    mutating func appendText(_ bytes: [UInt8]) {
        if textTruncated || bytes.isEmpty { return }
        let room = textCap - text.count
        if bytes.count <= room {
            text.append(contentsOf: bytes)
            return
        }
        text.append(contentsOf: bytes[0..<room])
        // Do not end inside a UTF-8 sequence.
        var cut = text.count
        var back = 0
        while cut > 0 && back < 4 && text[cut - 1] & 0xC0 == 0x80 {
            cut -= 1
            back += 1
        }
        if cut > 0 && text[cut - 1] >= 0xC0 {
            let lead = text[cut - 1]
            let need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1
            if back < need { text.removeSubrange((cut - 1)...) }
        }
        textTruncated = true
    }

    /// Releases scratch space grown by an unusually large event (a 4 MiB content string must
    /// not stay allocated for the rest of the stream).
    mutating func releaseLargeScratch() {
        if scratch.capacity > 64 << 10 { scratch = [] }
    }

    /// Spreads the server's `usage.completion_tokens` over the content chunks when it reports
    /// more tokens than chunks arrived (a server that packs several tokens into one event), so
    /// that inter-token latency is each gap divided by the tokens the event really carried.
    /// Reasoning the server counted but never streamed (`completion_tokens_details.reasoning_tokens`
    /// with no reasoning chunk) is left out: those tokens were not between the chunks.
    ///
    /// The rule: k = usage ÷ chunks, rounded. When the server packed k tokens into every
    /// event and the last one carries the rest (1…k), every chunk gets k and the last the
    /// remainder; otherwise the tokens are spread as evenly as integers allow (the counts
    /// differ by at most one and add up to the usage). Chunks keep 1 token when usage is
    /// absent or not larger than the chunk count, and counts already above 1 are left alone.
    public mutating func apportionUsageOverChunks() {
        let n = chunkTokens.count
        guard n > 0, let completion = usage?.completionTokens else { return }
        let hidden = chunkReasoning.contains(true) ? 0 : usage?.reasoningTokens ?? 0
        let reported = completion - max(0, hidden)
        guard reported > n, reported <= Int(UInt32.max), chunkTokens.allSatisfy({ $0 == 1 }) else { return }
        chunkTokens = Self.apportion(tokens: reported, over: n)
    }

    /// `tokens` (> `chunks` > 0) split over `chunks` events; see `apportionUsageOverChunks`.
    static func apportion(tokens: Int, over chunks: Int) -> [UInt32] {
        let k = Int((Double(tokens) / Double(chunks)).rounded())
        let last = tokens - k * (chunks - 1)
        if k >= 1, last >= 1, last <= k {
            var out = [UInt32](repeating: UInt32(clamping: k), count: chunks)
            out[chunks - 1] = UInt32(clamping: last)
            return out
        }
        var out: [UInt32] = []
        out.reserveCapacity(chunks)
        var given = 0
        for i in 1...chunks {
            let upTo = tokens * i / chunks
            out.append(UInt32(clamping: upTo - given))
            given = upTo
        }
        return out
    }

    mutating func merge(usage new: TokenUsage) {
        var u = usage ?? TokenUsage()
        if let v = new.promptTokens { u.promptTokens = v }
        if let v = new.completionTokens { u.completionTokens = v }
        if let v = new.cachedTokens { u.cachedTokens = v }
        if let v = new.reasoningTokens { u.reasoningTokens = v }
        usage = u
    }

    mutating func merge(serverTimings new: ServerTimings) {
        guard !new.isEmpty else { return }
        if reportedTimings.isEmpty {
            reportedTimings = [new]
        } else {
            reportedTimings[0].merge(new)
        }
    }

    /// Keeps the first failure only.
    mutating func fail(_ kind: FailureKind, _ detail: String) {
        if failureKind == nil {
            failureKind = kind
            failureDetail = detail
        }
    }

    /// A stream event that is not what its API sends: never skipped silently and never counted as a token,
    /// the request fails as `decode` (with the event's first bytes), keeping the chunks that arrived before it.
    mutating func failMalformedEvent(_ data: UnsafeRawBufferPointer) {
        fail(
            .decode,
            "malformed stream event after \(contentChunkCount) content events: "
                + String(decoding: data.prefix(200), as: UTF8.self))
    }

    mutating func markDone() { sawDone = true }
    mutating func markFinished() { sawFinish = true }
}
