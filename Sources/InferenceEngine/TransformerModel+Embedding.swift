extension TransformerModel {
    /// The width of `pooledEmbedding`'s vectors: the model's embedding length.
    public var embeddingWidth: Int { config.embeddingLength }

    /// A sentence embedding of `tokens`: the last hidden state after the final RMS norm, averaged over every
    /// position (mean pooling), then scaled to unit length (L2). The tokens run through the model against a fresh
    /// KV cache of exactly their length, asking for no logits, `chunk` positions per pass (causal attention over
    /// the cache makes the states the same as one pass's), so `buffers` never grow past `chunk` rows for a long
    /// input. `buffers` are the caller's (the inference thread's), so like `forward` this must run on the model's
    /// one thread.
    /// - Parameters:
    ///   - tokens: at least one token id, each below `vocabularySize`.
    ///   - chunk: positions per forward pass (the scheduler's prefill chunk); nil for one pass.
    /// - Throws: what an accelerator's device failed with (see `forward(batch:buffers:)`).
    public func pooledEmbedding(tokens: [Int32], buffers: ForwardBuffers, chunk: Int? = nil) throws -> [Float] {
        precondition(!tokens.isEmpty, "an embedding needs at least one token")
        let e = config.embeddingLength
        let n = tokens.count
        let step = max(1, min(chunk ?? n, n))
        let cache = makeCache(capacity: n)
        var sum = [Double](repeating: 0, count: e)
        var start = 0
        while start < n {
            let end = min(n, start + step)
            try forward(tokens: Array(tokens[start..<end]), cache: cache, buffers: buffers, logits: .none)
            // The forward pass leaves every position's hidden state in `buffers.hidden` when no logits are asked for.
            let rows = end - start
            backend.rmsNorm(
                buffers.hidden, weight: outputNorm, count: rows, epsilon: config.normEpsilon, output: buffers.normed)
            for position in 0..<rows {
                let row = buffers.normed + position * e
                for i in 0..<e { sum[i] += Double(row[i]) }
            }
            start = end
        }
        return EmbeddingVector.unitLength(sum.map { $0 / Double(n) })
    }
}
