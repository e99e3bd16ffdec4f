extension TransformerModel {
    /// The width of `pooledEmbedding`'s vectors: the model's embedding length.
    public var embeddingWidth: Int { config.embeddingLength }

    /// A sentence embedding of `tokens`: the last hidden state after the final RMS norm, averaged over every
    /// position (mean pooling), then scaled to unit length (L2). The tokens run through the model in one pass
    /// against a fresh KV cache of exactly their length, asking for no logits; `buffers` are the caller's (the
    /// inference thread's), so like `forward` this must run on the model's one thread.
    /// - Parameter tokens: at least one token id, each below `vocabularySize`.
    public func pooledEmbedding(tokens: [Int32], buffers: ForwardBuffers) -> [Float] {
        precondition(!tokens.isEmpty, "an embedding needs at least one token")
        let e = config.embeddingLength
        let n = tokens.count
        forward(tokens: tokens, cache: makeCache(capacity: n), buffers: buffers, logits: .none)
        // The forward pass leaves every position's hidden state in `buffers.hidden` when no logits are asked for.
        backend.rmsNorm(
            buffers.hidden, weight: outputNorm, count: n, epsilon: config.normEpsilon, output: buffers.normed)
        var sum = [Double](repeating: 0, count: e)
        for position in 0..<n {
            let row = buffers.normed + position * e
            for i in 0..<e { sum[i] += Double(row[i]) }
        }
        return EmbeddingVector.unitLength(sum.map { $0 / Double(n) })
    }
}
