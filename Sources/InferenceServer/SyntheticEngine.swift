/// A deterministic engine for tests, calibration and smoke runs: no model, just timing.
///
/// - Text: words from a fixed list, one word per token (`"lorem"`, `" ipsum"`, …: every word after the
///   first has a leading space), starting at an offset chosen by `seed` (0 without one). `temperature`
///   and `top_p` are accepted and ignored: output never varies for equal inputs.
/// - Prompt tokens: the templated prompt split on whitespace. A completion prompt is used as is; a chat
///   is templated as `<|role|> content` per message followed by `<|assistant|>`, so it counts
///   Σ(1 + words(content)) + 1.
/// - Length: `max_tokens` (or `max_completion_tokens`) when the request gives one (finish reason
///   `length`), else `defaultTokens` (finish reason `stop`), capped by the context length.
/// - Timing: the first content token is ready `ttftMs` after the request arrived, token k at
///   arrival + ttft + k·itl: absolute deadlines on CLOCK_MONOTONIC, so lateness never accumulates.
///   Tokens already due are handed over together (with ttft = itl = 0, up to `batchLimit` per batch).
public struct SyntheticEngine: ServingEngine {
    public struct Configuration: Sendable, Equatable {
        public var modelName: String
        public var ttftMs: Double
        public var itlMs: Double
        public var defaultTokens: Int
        public var contextLength: Int

        public init(
            modelName: String = "synthetic", ttftMs: Double = 0, itlMs: Double = 0, defaultTokens: Int = 128,
            contextLength: Int = 1 << 20
        ) {
            self.modelName = modelName
            self.ttftMs = ttftMs
            self.itlMs = itlMs
            self.defaultTokens = defaultTokens
            self.contextLength = contextLength
        }
    }

    public static let words: [String] = [
        "lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do", "eiusmod",
        "tempor", "incididunt", "ut", "labore", "et", "dolore", "magna", "aliqua", "enim",
    ]
    /// Most pieces handed over in one batch.
    public static let batchLimit = 256

    public let configuration: Configuration
    public var modelName: String { configuration.modelName }
    public var contextLength: Int { configuration.contextLength }

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    public func prepare(_ input: PromptInput) throws -> PreparedPrompt {
        switch input {
        case .completion(let text):
            return PreparedPrompt(text: text, tokenCount: Self.wordCount(text))
        case .chat(let messages):
            var text = ""
            var count = 1
            for message in messages {
                text += "<|\(message.role)|> \(message.content)\n"
                count += 1 + Self.wordCount(message.content)
            }
            text += "<|assistant|>"
            return PreparedPrompt(text: text, tokenCount: count)
        }
    }

    public func generate(_ request: GenerationRequest) -> GenerationStream {
        let total = request.maxTokens
        let reason: GenerationFinish.Reason = request.maxTokensRequested ? .length : .stop
        let firstNanos = request.arrivalNanos &+ Self.nanos(milliseconds: configuration.ttftMs)
        let itlNanos = Self.nanos(milliseconds: configuration.itlMs)
        let offset = Int(truncatingIfNeeded: (request.seed ?? 0) % UInt64(Self.words.count))
        return GenerationStream(makeNext: {
            var state = SyntheticRun(
                total: total, reason: reason, firstNanos: firstNanos, itlNanos: itlNanos, offset: offset)
            return { try await state.next() }
        })
    }

    /// The default completion length for a prompt of `promptTokens` (the server asks before `generate`).
    public func defaultMaxTokens(promptTokens: Int) -> Int {
        max(0, min(configuration.defaultTokens, contextLength - promptTokens))
    }

    /// Milliseconds to nanoseconds; negative, NaN and absurd values are clamped (0 to 10^6 s).
    static func nanos(milliseconds: Double) -> UInt64 {
        guard milliseconds.isFinite, milliseconds > 0 else { return 0 }
        return UInt64(min(milliseconds, 1e9) * 1_000_000)
    }

    static func wordCount(_ text: String) -> Int {
        var count = 0
        var inWord = false
        for byte in text.utf8 {
            let isSpace = byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
            if isSpace {
                inWord = false
            } else if !inWord {
                inWord = true
                count += 1
            }
        }
        return count
    }

    /// The pieces, rendered once: index 0 has no leading space, the rest do.
    static let spacedWords: [String] = words.map { " " + $0 }
}

/// One request's progress through the synthetic timeline.
private struct SyntheticRun {
    let total: Int
    let reason: GenerationFinish.Reason
    let firstNanos: UInt64
    let itlNanos: UInt64
    let offset: Int
    var emitted = 0
    var finished = false

    init(total: Int, reason: GenerationFinish.Reason, firstNanos: UInt64, itlNanos: UInt64, offset: Int) {
        self.total = total
        self.reason = reason
        self.firstNanos = firstNanos
        self.itlNanos = itlNanos
        self.offset = offset
    }

    mutating func next() async throws -> GenerationBatch? {
        if finished { return nil }
        if emitted >= total {
            finished = true
            return GenerationBatch(pieces: [], finish: GenerationFinish(reason: reason))
        }
        let deadline = firstNanos &+ UInt64(emitted) &* itlNanos
        var now = MonotonicClock.nowNanos()
        if deadline > now {
            try await MonotonicClock.sleep(untilNanos: deadline)
            now = MonotonicClock.nowNanos()
        } else {
            try Task.checkCancellation()
        }
        var due: Int
        if itlNanos == 0 {
            due = total - emitted
        } else {
            due = now >= firstNanos ? Int((now - firstNanos) / itlNanos) + 1 - emitted : 1
            due = max(1, min(due, total - emitted))
        }
        due = min(due, SyntheticEngine.batchLimit)
        var pieces: [GeneratedPiece] = []
        pieces.reserveCapacity(due)
        let words = SyntheticEngine.spacedWords
        for index in emitted..<(emitted + due) {
            let word = words[(index + offset) % words.count]
            pieces.append(GeneratedPiece(text: index == 0 ? String(word.dropFirst()) : word))
        }
        emitted += due
        if emitted >= total {
            finished = true
            return GenerationBatch(pieces: pieces, finish: GenerationFinish(reason: reason))
        }
        return GenerationBatch(pieces: pieces)
    }
}
