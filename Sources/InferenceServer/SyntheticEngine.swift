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
/// - Chat answers only (`GenerationRequest.isChat`; a text completion is always plain text):
///   - `reasoningTokens` R: the first min(R, length) tokens are reasoning (`GeneratedPiece.Kind.reasoning`),
///     the rest answer; the length counts both, as vLLM counts `max_tokens`. Each part starts its words afresh
///     (no leading space on its first word).
///   - `toolCalls`: the answer after the reasoning is one call of `get_weather` instead of text: an opening
///     piece (the first token) with the id `call_` + 16 hex digits hashed from the prompt and seed, then one
///     arguments fragment per further token that together are a JSON object: `{"city": "` + words + `"}`
///     (4 tokens or more), `{"city": ""}` (2 or 3), or `{}` in the opening itself (1). Finish reason
///     `tool_calls`; none when no token is left for the call after the reasoning.
public struct SyntheticEngine: ServingEngine {
    public struct Configuration: Sendable, Equatable {
        public var modelName: String
        public var ttftMs: Double
        public var itlMs: Double
        public var defaultTokens: Int
        public var contextLength: Int
        /// Leading tokens of every chat answer that are reasoning (`--reasoning-tokens`).
        public var reasoningTokens: Int
        /// Every chat answer is a tool call (`--tool-calls`).
        public var toolCalls: Bool
        /// At most this many requests generate at once; the rest wait, first come first served, and their
        /// time to first token counts from when a slot frees (`--max-running`; nil: no limit).
        public var maxRunning: Int?
        /// Each token's interval grows by this many ms per request generating at that moment, itself included
        /// (`--itl-per-running-ms`): with c requests generating, tokens come `itlMs + itlPerRunningMs·c` apart.
        public var itlPerRunningMs: Double

        public init(
            modelName: String = "synthetic", ttftMs: Double = 0, itlMs: Double = 0, defaultTokens: Int = 128,
            contextLength: Int = 1 << 20, reasoningTokens: Int = 0, toolCalls: Bool = false, maxRunning: Int? = nil,
            itlPerRunningMs: Double = 0
        ) {
            self.modelName = modelName
            self.ttftMs = ttftMs
            self.itlMs = itlMs
            self.defaultTokens = defaultTokens
            self.contextLength = contextLength
            self.reasoningTokens = reasoningTokens
            self.toolCalls = toolCalls
            self.maxRunning = maxRunning
            self.itlPerRunningMs = itlPerRunningMs
        }

        /// The answers share a batch: a request's pace or start depends on the others.
        var isLoaded: Bool { maxRunning != nil || itlPerRunningMs > 0 }
    }

    public static let words: [String] = [
        "lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do", "eiusmod",
        "tempor", "incididunt", "ut", "labore", "et", "dolore", "magna", "aliqua", "enim",
    ]
    /// Most pieces handed over in one batch.
    public static let batchLimit = 256
    /// The function every synthetic tool call names.
    public static let toolName = "get_weather"
    /// The first and last arguments fragments of a tool call of 2 tokens or more.
    static let argumentsOpening = "{\"city\": \""
    static let argumentsClosing = "\"}"

    public let configuration: Configuration
    /// The requests generating and waiting, when the configuration makes them matter (`isLoaded`).
    let admission: SyntheticAdmission?
    public var modelName: String { configuration.modelName }
    public var contextLength: Int { configuration.contextLength }

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        admission = configuration.isLoaded ? SyntheticAdmission(maxRunning: configuration.maxRunning) : nil
    }

    public var schedulerLoad: SchedulerLoad { admission?.load ?? SchedulerLoad(waiting: 0, running: 0) }

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
        var shape = AnswerShape(total: total, reason: reason)
        if request.isChat {
            shape.reasoning = min(max(0, configuration.reasoningTokens), total)
            if configuration.toolCalls && total > shape.reasoning {
                shape.toolCallID = Self.toolCallID(prompt: request.prompt.text, seed: request.seed)
                shape.reason = .toolCalls
            }
        }
        let pace = SyntheticPace(
            firstNanos: firstNanos, ttftNanos: Self.nanos(milliseconds: configuration.ttftMs), itlNanos: itlNanos,
            itlPerRunningNanos: Self.nanos(milliseconds: configuration.itlPerRunningMs))
        let slot = admission.map(SyntheticSlot.init)
        // Without a batch limit nothing waits: the request is admitted as it is handed over.
        if slot == nil { request.timeline?.markAdmitted() }
        let timeline = request.timeline
        var stream = GenerationStream(
            makeNext: { [shape] in
                var state = SyntheticRun(shape: shape, pace: pace, offset: offset, slot: slot, timeline: timeline)
                return { try await state.next() }
            }, onCancel: { slot?.release() })
        stream.opensWithToolCall = shape.toolCallID != nil && shape.reasoning == 0
        return stream
    }

    /// `call_` and 16 hex digits of an FNV-1a hash of the prompt and seed: equal requests, equal ids.
    static func toolCallID(prompt: String, seed: UInt64?) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        for byte in prompt.utf8 { mix(byte) }
        if let seed {
            for shift in stride(from: 0, to: 64, by: 8) { mix(UInt8(truncatingIfNeeded: seed >> UInt64(shift))) }
        }
        let hex = String(hash, radix: 16)
        return "call_" + String(repeating: "0", count: 16 - hex.count) + hex
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

/// What one answer is made of: `reasoning` tokens, then `total - reasoning` tokens of text, or of a tool
/// call's arguments when `toolCallID` is set.
private struct AnswerShape: Sendable {
    var total: Int
    var reason: GenerationFinish.Reason
    var reasoning = 0
    var toolCallID: String?

    init(total: Int, reason: GenerationFinish.Reason) {
        self.total = total
        self.reason = reason
    }

    /// Token `index` (0-based) of the answer, and the opening piece before it when a tool call starts there.
    func append(_ index: Int, offset: Int, to pieces: inout [GeneratedPiece]) {
        let words = SyntheticEngine.spacedWords
        let word = words[(index + offset) % words.count]
        if index < reasoning {
            pieces.append(GeneratedPiece(text: index == 0 ? String(word.dropFirst()) : word, kind: .reasoning))
            return
        }
        let position = index - reasoning
        guard let toolCallID else {
            pieces.append(GeneratedPiece(text: position == 0 ? String(word.dropFirst()) : word))
            return
        }
        // The call's opening (its id and name) is the answer's first token, as a model spends tokens on
        // the name: a client sees one event per token, and usage agrees with what arrived. The other
        // tokens are argument fragments that join into a JSON object; a call of one token has no room
        // for fragments, so its opening carries the whole (empty) object.
        let length = total - reasoning
        if position == 0 {
            let call = GeneratedPiece.Kind.toolCall(id: toolCallID, name: SyntheticEngine.toolName)
            pieces.append(GeneratedPiece(text: length == 1 ? "{}" : "", tokenCount: 1, kind: call))
            return
        }
        let fragments = length - 1
        let fragmentIndex = position - 1
        let fragment: String
        if fragments == 1 {
            fragment = SyntheticEngine.argumentsOpening + SyntheticEngine.argumentsClosing
        } else if fragmentIndex == 0 {
            fragment = SyntheticEngine.argumentsOpening
        } else if fragmentIndex == fragments - 1 {
            fragment = SyntheticEngine.argumentsClosing
        } else {
            fragment = fragmentIndex == 1 ? String(word.dropFirst()) : word
        }
        pieces.append(GeneratedPiece(text: fragment, kind: .toolArguments))
    }
}

/// One request's progress through the synthetic timeline.
/// When a synthetic answer's tokens are due.
private struct SyntheticPace {
    /// The first token's deadline when the request starts at once: arrival + ttft.
    var firstNanos: UInt64
    var ttftNanos: UInt64
    var itlNanos: UInt64
    /// Added to each interval per request generating (`--itl-per-running-ms`).
    var itlPerRunningNanos: UInt64
}

private struct SyntheticRun {
    let shape: AnswerShape
    let total: Int
    let reason: GenerationFinish.Reason
    let pace: SyntheticPace
    let offset: Int
    /// The request's place in the engine's batch (nil when the engine has no batch to share).
    let slot: SyntheticSlot?
    let timeline: RequestTimeline?
    /// The next token's deadline (CLOCK_MONOTONIC): absolute, so lateness never accumulates.
    var nextDeadline: UInt64
    var emitted = 0
    var started = false
    var finished = false

    init(shape: AnswerShape, pace: SyntheticPace, offset: Int, slot: SyntheticSlot?, timeline: RequestTimeline?) {
        self.timeline = timeline
        self.shape = shape
        self.total = shape.total
        self.reason = shape.reason
        self.pace = pace
        self.offset = offset
        self.slot = slot
        self.nextDeadline = pace.firstNanos
    }

    mutating func next() async throws -> GenerationBatch? {
        if finished { return nil }
        do {
            let batch = try await step()
            if finished { slot?.release() }
            return batch
        } catch {
            finished = true
            slot?.release()
            throw error
        }
    }

    /// The interval after the token just emitted: itl, plus itl-per-running for each request generating now.
    private func interval() -> UInt64 {
        guard pace.itlPerRunningNanos > 0, let slot else { return pace.itlNanos }
        return pace.itlNanos &+ pace.itlPerRunningNanos &* UInt64(slot.runningNow)
    }

    private mutating func step() async throws -> GenerationBatch? {
        if !started {
            started = true
            // A request that waited for a slot starts when it gets one: its first token is ttft after that.
            if let slot {
                let waited = try await slot.admit()
                let admitted = MonotonicClock.nowNanos()
                timeline?.markAdmitted(admitted)
                if waited { nextDeadline = admitted &+ pace.ttftNanos }
            }
        }
        if emitted >= total {
            finished = true
            return GenerationBatch(pieces: [], finish: GenerationFinish(reason: reason))
        }
        var now = MonotonicClock.nowNanos()
        if nextDeadline > now {
            try await MonotonicClock.sleep(untilNanos: nextDeadline)
            now = MonotonicClock.nowNanos()
        } else {
            try Task.checkCancellation()
        }
        // Every token already due goes in this batch (up to batchLimit): at least the one just slept for.
        var pieces: [GeneratedPiece] = []
        if pace.itlNanos == 0 && pace.itlPerRunningNanos == 0 {
            pieces.reserveCapacity(min(total - emitted, SyntheticEngine.batchLimit))
        }
        repeat {
            shape.append(emitted, offset: offset, to: &pieces)
            emitted += 1
            nextDeadline &+= interval()
        } while emitted < total && pieces.count < SyntheticEngine.batchLimit && nextDeadline <= now
        if let timeline {
            timeline.markTokens(now)
            timeline.markStep(batchSize: slot?.runningNow ?? 1)
        }
        if emitted >= total {
            finished = true
            return GenerationBatch(pieces: pieces, finish: GenerationFinish(reason: reason))
        }
        return GenerationBatch(pieces: pieces)
    }
}
