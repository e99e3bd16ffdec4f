@testable import InferenceEngine

/// A KV cache and activation buffers driven by hand, for tests of the forward pass itself (logits per position,
/// rollback, shared backends) and as an independent greedy reference for the decoders: each call is one
/// `TransformerModel.forward`. Request decoding is `SequenceDecoder`'s.
final class ForwardHarness {
    let model: TransformerModel
    let cache: KVCache
    private let buffers: ForwardBuffers
    private var logits: UnsafePointer<Float>?

    init(model: TransformerModel, capacity: Int? = nil) {
        self.model = model
        cache = model.makeCache(capacity: capacity)
        buffers = ForwardBuffers(config: model.config)
    }

    var remainingCapacity: Int { cache.capacity - cache.count }

    /// Keeps the first `count` cached positions.
    func truncate(to count: Int) {
        cache.truncate(to: count)
        logits = nil
    }

    /// Runs `tokens` in one pass and keeps the last position's logits.
    func prefill(_ tokens: [Int32]) throws {
        logits = try model.forward(tokens: tokens, cache: cache, buffers: buffers, logits: .last)
    }

    /// Runs `tokens` and returns every position's logits (`[tokens.count][vocabularySize]`).
    func logitsForAll(_ tokens: [Int32]) throws -> UnsafePointer<Float> {
        let all = try model.forward(tokens: tokens, cache: cache, buffers: buffers, logits: .all)
        logits = all + (tokens.count - 1) * model.vocabularySize
        return all
    }

    var currentLogits: UnsafeBufferPointer<Float>? {
        logits.map { UnsafeBufferPointer(start: $0, count: model.vocabularySize) }
    }

    func sample(_ sampler: inout Sampler) -> Int32 {
        sampler.sample(logits!, count: model.vocabularySize)
    }

    /// Picks the next token, runs it, returns it.
    func step(_ sampler: inout Sampler) throws -> Int32 {
        let token = sample(&sampler)
        try prefill([token])
        return token
    }

    /// Greedy tokens after `prompt`, one pass per token, until end-of-sequence (excluded), `maxTokens` or a full
    /// cache.
    static func greedy(_ model: TransformerModel, prompt: [Int32], maxTokens: Int) throws -> [Int32] {
        let harness = ForwardHarness(model: model)
        var sampler = Sampler(parameters: .greedy)
        try harness.prefill(prompt)
        var tokens: [Int32] = []
        while tokens.count < maxTokens {
            let token = harness.sample(&sampler)
            if model.eosTokenIDs.contains(token) { break }
            tokens.append(token)
            if tokens.count == maxTokens || harness.remainingCapacity == 0 { break }
            try harness.prefill([token])
        }
        return tokens
    }
}
