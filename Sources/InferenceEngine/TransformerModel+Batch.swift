/// One sequence's share of a batched forward pass: its new tokens, the KV cache they extend, and which logits it
/// needs back.
public struct BatchEntry {
    public var tokens: [Int32]
    public var cache: KVCache
    public var logits: TransformerModel.LogitsRequest

    public init(tokens: [Int32], cache: KVCache, logits: TransformerModel.LogitsRequest) {
        self.tokens = tokens
        self.cache = cache
        self.logits = logits
    }
}

extension TransformerModel {
    /// Runs the new tokens of several sequences through the model together (continuous batching): every weight
    /// matrix is read once for all rows of all sequences; positional encoding and attention are per sequence, each
    /// against its own KV cache, which grows by its entry's token count.
    ///
    /// - Returns: for each entry, a pointer to its logits (one row for `.last`, one per token for `.all`, nil for
    ///   `.none`) inside `buffers`, valid until the next call with the same buffers.
    ///
    /// Throws what an accelerator's device failed with (a GPU lost or out of memory; the CPU engine never throws). A
    /// pass that throws leaves every cache's count as it was, so a sequence may be cancelled and its cache reused;
    /// no caller's process ends on a device's failure.
    public func forward(batch: [BatchEntry], buffers: ForwardBuffers) throws -> [UnsafePointer<Float>?] {
        precondition(!batch.isEmpty, "forward needs at least one sequence")
        let c = config
        let e = c.embeddingLength
        let kv = c.kvDimension
        var offsets: [Int] = []
        offsets.reserveCapacity(batch.count)
        var n = 0
        var logitRows = 0
        for entry in batch {
            precondition(!entry.tokens.isEmpty, "every sequence in a batch needs at least one token")
            precondition(
                entry.cache.count + entry.tokens.count <= entry.cache.capacity,
                "context full: \(entry.cache.count + entry.tokens.count) > \(entry.cache.capacity)")
            offsets.append(n)
            n += entry.tokens.count
            switch entry.logits {
            case .none: break
            case .last: logitRows += 1
            case .all: logitRows += entry.tokens.count
            }
        }
        if let accelerator {
            let results = try accelerator.forward(batch: batch, buffers: buffers)
            for entry in batch { entry.cache.advance(by: entry.tokens.count) }
            return results
        }
        buffers.reserve(positions: n, logitRows: max(1, logitRows))
        for (b, entry) in batch.enumerated() {
            for (i, token) in entry.tokens.enumerated() {
                precondition(token >= 0 && Int(token) < c.vocabularySize, "token id \(token) out of range")
                tokenEmbedding.decodeRow(Int(token), into: buffers.hidden + (offsets[b] + i) * e)
            }
        }
        // A lone sequence writes its keys and values straight into its cache; a batch goes through the shared
        // buffers and is scattered to each sequence's cache.
        let direct = batch.count == 1
        for (l, layer) in layers.enumerated() {
            backend.rmsNorm(
                buffers.hidden, weight: layer.attentionNorm, count: n, epsilon: c.normEpsilon, output: buffers.normed)
            let keyRows =
                direct ? batch[0].cache.keys(layer: l) + batch[0].cache.count * kv : buffers.key
            let valueRows =
                direct ? batch[0].cache.values(layer: l) + batch[0].cache.count * kv : buffers.value
            backend.matmul(
                [layer.query, layer.key, layer.value], input: buffers.normed, count: n,
                outputs: [buffers.query, keyRows, valueRows])
            for (b, entry) in batch.enumerated() {
                let rows = entry.tokens.count
                let first = entry.cache.count
                let q = buffers.query + offsets[b] * c.queryDimension
                let keys = entry.cache.keys(layer: l) + first * kv
                let values = entry.cache.values(layer: l) + first * kv
                if !direct {
                    keys.update(from: buffers.key + offsets[b] * kv, count: rows * kv)
                    values.update(from: buffers.value + offsets[b] * kv, count: rows * kv)
                }
                backend.rope(
                    q, count: rows, heads: c.headCount, headDimension: c.headDimension,
                    ropeDimension: c.ropeDimension, firstPosition: first, base: c.ropeBase)
                backend.rope(
                    keys, count: rows, heads: c.kvHeadCount, headDimension: c.headDimension,
                    ropeDimension: c.ropeDimension, firstPosition: first, base: c.ropeBase)
                backend.attention(
                    query: q, cache: entry.cache, layer: l, firstPosition: first, count: rows, heads: c.headCount,
                    kvHeads: c.kvHeadCount, headDimension: c.headDimension,
                    output: buffers.attended + offsets[b] * c.queryDimension)
            }
            backend.matmul(layer.attentionOutput, input: buffers.attended, count: n, output: buffers.projected)
            backend.add(buffers.projected, into: buffers.hidden, count: n * e)
            backend.rmsNorm(
                buffers.hidden, weight: layer.feedForwardNorm, count: n, epsilon: c.normEpsilon, output: buffers.normed)
            backend.matmul(
                [layer.gate, layer.up], input: buffers.normed, count: n, outputs: [buffers.gate, buffers.up])
            backend.swiglu(gate: buffers.gate, up: buffers.up, count: n * c.feedForwardLength, output: buffers.gate)
            backend.matmul(layer.down, input: buffers.gate, count: n, output: buffers.projected)
            backend.add(buffers.projected, into: buffers.hidden, count: n * e)
        }
        for entry in batch { entry.cache.advance(by: entry.tokens.count) }
        guard logitRows > 0 else { return Array(repeating: nil, count: batch.count) }

        // Gather the rows whose logits are wanted, then one output projection for all of them.
        var results: [UnsafePointer<Float>?] = []
        results.reserveCapacity(batch.count)
        var gathered = 0
        let v = c.vocabularySize
        for (b, entry) in batch.enumerated() {
            let rows: Range<Int>
            switch entry.logits {
            case .none:
                results.append(nil)
                continue
            case .last: rows = (entry.tokens.count - 1)..<entry.tokens.count
            case .all: rows = 0..<entry.tokens.count
            }
            results.append(UnsafePointer(buffers.logits + gathered * v))
            if gathered != offsets[b] + rows.lowerBound {
                // Rows only move towards the front, possibly overlapping: a memmove.
                UnsafeMutableRawPointer(buffers.hidden + gathered * e).copyMemory(
                    from: buffers.hidden + (offsets[b] + rows.lowerBound) * e,
                    byteCount: rows.count * e * MemoryLayout<Float>.stride)
            }
            gathered += rows.count
        }
        backend.rmsNorm(
            buffers.hidden, weight: outputNorm, count: gathered, epsilon: c.normEpsilon, output: buffers.normed)
        backend.matmul(output, input: buffers.normed, count: gathered, output: buffers.logits)
        return results
    }
}
