/// One sequence's inference loop: owns a KV cache and activation buffers and drives a shared `TransformerModel`.
///
/// Not thread-safe: create and use it on the one inference thread. The low-level calls (`prefill`, `step`,
/// `truncate`) are enough for speculative decoding and prefix reuse; `generate` is the complete-a-prompt loop.
public final class Generator {
    public let model: TransformerModel
    public let cache: KVCache
    let buffers: ForwardBuffers
    /// Tokens whose keys and values are in the cache, in order.
    public private(set) var tokens: [Int32] = []
    private var logits: UnsafePointer<Float>?

    public init(model: TransformerModel, capacity: Int? = nil) {
        self.model = model
        cache = model.makeCache(capacity: capacity)
        buffers = ForwardBuffers(config: model.config)
    }

    /// Room left in the cache.
    public var remainingCapacity: Int { cache.capacity - cache.count }

    /// Forgets everything.
    public func reset() { truncate(to: 0) }

    /// Keeps only the first `count` cached tokens (roll back rejected tokens, reuse a shared prefix).
    public func truncate(to count: Int) {
        cache.truncate(to: count)
        tokens.removeLast(tokens.count - count)
        logits = nil
    }

    /// Runs `newTokens` through the model in one batched pass and keeps the last position's logits.
    public func prefill(_ newTokens: [Int32]) {
        precondition(!newTokens.isEmpty)
        logits = model.forward(tokens: newTokens, cache: cache, buffers: buffers, logits: .last)
        tokens += newTokens
    }

    /// Runs `newTokens` and returns every position's logits (`[newTokens.count][vocabularySize]`), e.g. to verify
    /// draft tokens in one pass. The pointer is valid until the next call.
    public func logitsForAll(_ newTokens: [Int32]) -> UnsafePointer<Float> {
        let all = model.forward(tokens: newTokens, cache: cache, buffers: buffers, logits: .all)
        tokens += newTokens
        logits = all + (newTokens.count - 1) * model.vocabularySize
        return all
    }

    /// Logits after the last processed token, if any.
    public var currentLogits: UnsafeBufferPointer<Float>? {
        logits.map { UnsafeBufferPointer(start: $0, count: model.vocabularySize) }
    }

    /// Picks the next token from the current logits (does not process it).
    public func sample(_ sampler: inout Sampler) -> Int32 {
        guard let logits else { preconditionFailure("sample() before prefill()") }
        return sampler.sample(logits, count: model.vocabularySize)
    }

    /// Picks the next token, processes it, and returns it.
    public func step(_ sampler: inout Sampler) -> Int32 {
        let token = sample(&sampler)
        prefill([token])
        return token
    }

    /// Completes a prompt. `onToken` receives each generated token and the text it completed (possibly empty,
    /// never broken UTF-8; text that may start a stop string is held back until it is known not to); return false
    /// from it to stop early. Cached tokens shared with `promptTokens` are reused.
    @discardableResult
    public func generate(
        promptTokens: [Int32], parameters: GenerationParameters, onToken: (Int32, String) -> Bool = { _, _ in true }
    ) -> GenerationResult {
        precondition(!promptTokens.isEmpty, "empty prompt")
        var shared = 0
        while shared < min(tokens.count, promptTokens.count - 1) && tokens[shared] == promptTokens[shared] {
            shared += 1
        }
        truncate(to: shared)
        let room = cache.capacity - shared
        if promptTokens.count - shared > room {
            return GenerationResult(
                finishReason: .length, promptTokens: promptTokens.count, completionTokens: 0, text: "")
        }
        prefill(Array(promptTokens[shared...]))
        var sampler = Sampler(parameters: parameters.sampling)
        var detokenizer = StreamingDetokenizer(tokenizer: model.tokenizer)
        var stops = StopStringMatcher(stops: parameters.stop)
        var text = ""
        var produced = 0
        let eos = model.eosTokenIDs
        while produced < parameters.maxTokens {
            let token = sample(&sampler)
            if eos.contains(token) {
                let rest = stops.finish(detokenizer.flush())
                text += rest
                if !rest.isEmpty { _ = onToken(token, rest) }
                return GenerationResult(
                    finishReason: .stop, promptTokens: promptTokens.count, completionTokens: produced, text: text)
            }
            produced += 1
            let (piece, stopped) = stops.feed(detokenizer.append(token))
            text += piece
            let keepGoing = onToken(token, piece)
            if stopped {
                return GenerationResult(
                    finishReason: .stop, promptTokens: promptTokens.count, completionTokens: produced, text: text)
            }
            if !keepGoing {
                return GenerationResult(
                    finishReason: .cancelled, promptTokens: promptTokens.count, completionTokens: produced, text: text)
            }
            if produced == parameters.maxTokens || remainingCapacity == 0 { break }
            prefill([token])
        }
        let rest = stops.finish(detokenizer.flush())
        if !rest.isEmpty {
            text += rest
            _ = onToken(-1, rest)
        }
        return GenerationResult(
            finishReason: .length, promptTokens: promptTokens.count, completionTokens: produced, text: text)
    }
}

/// The outcome of `Generator.generate`.
public struct GenerationResult: Sendable, Equatable {
    public var finishReason: FinishReason
    public var promptTokens: Int
    public var completionTokens: Int
    /// The generated text, stop string excluded.
    public var text: String
}
