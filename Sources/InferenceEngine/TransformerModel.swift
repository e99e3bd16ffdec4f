/// A llama-family decoder loaded from a GGUF file, with its tokenizer and chat template.
///
/// Weights stay in the memory-mapped file in their stored format. The model is immutable after loading, but its
/// compute backend keeps scratch memory, so forward passes must not run concurrently: give the model to one inference
/// thread (several `Generator`s may share it on that thread).
public final class TransformerModel: @unchecked Sendable {
    public let config: ModelConfig
    /// `general.name`, or the file name when absent.
    public let name: String
    public let tokenizer: Tokenizer
    public let chatTemplate: ChatTemplate
    /// Maximum positions per sequence (KV cache capacity).
    public let contextLength: Int
    public let backend: ComputeBackend
    public let file: GGUFFile

    public var vocabularySize: Int { config.vocabularySize }
    /// Token ids that end generation.
    public var eosTokenIDs: Set<Int32> { tokenizer.endOfGenerationIDs }

    let layers: [LayerWeights]
    let tokenEmbedding: WeightMatrix
    let outputNorm: [Float]
    let output: WeightMatrix

    struct LayerWeights {
        let attentionNorm: [Float]
        var query: WeightMatrix
        var key: WeightMatrix
        var value: WeightMatrix
        var attentionOutput: WeightMatrix
        let feedForwardNorm: [Float]
        var gate: WeightMatrix
        var up: WeightMatrix
        var down: WeightMatrix

        var matrices: [WeightMatrix] { [query, key, value, attentionOutput, gate, up, down] }

        mutating func pack() {
            query.pack()
            key.pack()
            value.pack()
            attentionOutput.pack()
            gate.pack()
            up.pack()
            down.pack()
        }
    }

    /// Loads a model.
    /// - Parameters:
    ///   - path: a GGUF file.
    ///   - threads: compute threads (the calling thread counts as one).
    ///   - contextLength: KV capacity per sequence; `nil` uses the trained length capped at 4096.
    public static func load(path: String, threads: Int = 2, contextLength: Int? = nil) throws -> TransformerModel {
        try TransformerModel(file: GGUFFile(path: path), threads: threads, contextLength: contextLength)
    }

    /// - Parameter packWeights: re-lay quantized matrices out for the fast kernels (the default in optimised
    ///   builds; unoptimised builds use the scalar kernels, which read the file's layout).
    public convenience init(
        file: GGUFFile, threads: Int = 2, contextLength: Int? = nil, backend: ComputeBackend? = nil
    ) throws {
        try self.init(
            file: file, threads: threads, contextLength: contextLength, backend: backend,
            packWeights: MatrixKernels.defaultStrategy == .simd)
    }

    init(
        file: GGUFFile, threads: Int, contextLength: Int?, backend: ComputeBackend?, packWeights: Bool
    ) throws {
        self.file = file
        var config = try ModelConfig.read(from: file)
        tokenizer = try Tokenizer(file: file)
        if config.vocabularySize == 0 { config.vocabularySize = tokenizer.vocabularySize }
        chatTemplate = ChatTemplate(file: file)
        name = (try? file.string("general.name")) ?? "model"
        self.contextLength = max(1, contextLength ?? min(config.trainedContextLength, 4096))
        self.backend = backend ?? CPUBackend(threads: threads)

        func vector(_ name: String, _ length: Int) throws -> [Float] {
            let info = try file.tensor(name)
            guard info.elementCount == length else {
                throw GGUFError.invalidTensor(
                    name: name, reason: "expected \(length) values, found \(info.elementCount)")
            }
            return QuantizedBlocks.decode(info.type, from: file.data(of: info), count: length)
        }
        func matrix(_ name: String, rows: Int, columns: Int) throws -> WeightMatrix {
            let m = try WeightMatrix.load(file, name)
            guard m.rows == rows, m.columns == columns else {
                throw GGUFError.invalidTensor(
                    name: name, reason: "expected \(columns)x\(rows), found \(m.columns)x\(m.rows)")
            }
            return m
        }
        let e = config.embeddingLength
        outputNorm = try vector("output_norm.weight", e)
        let tokenEmbedding = try matrix("token_embd.weight", rows: config.vocabularySize, columns: e)
        var output = tokenEmbedding
        if file.tensors["output.weight"] != nil {
            output = try matrix("output.weight", rows: config.vocabularySize, columns: e)
        }
        var layers = try (0..<config.layerCount).map { l in
            let p = "blk.\(l)."
            return LayerWeights(
                attentionNorm: try vector(p + "attn_norm.weight", e),
                query: try matrix(p + "attn_q.weight", rows: config.queryDimension, columns: e),
                key: try matrix(p + "attn_k.weight", rows: config.kvDimension, columns: e),
                value: try matrix(p + "attn_v.weight", rows: config.kvDimension, columns: e),
                attentionOutput: try matrix(p + "attn_output.weight", rows: e, columns: config.queryDimension),
                feedForwardNorm: try vector(p + "ffn_norm.weight", e),
                gate: try matrix(p + "ffn_gate.weight", rows: config.feedForwardLength, columns: e),
                up: try matrix(p + "ffn_up.weight", rows: config.feedForwardLength, columns: e),
                down: try matrix(p + "ffn_down.weight", rows: e, columns: config.feedForwardLength))
        }
        if packWeights {
            // The packed copies are what the kernels read: drop each tensor's file pages from memory as soon as it
            // is packed, so the peak stays near one copy (embedding rows are read again on demand).
            func release(_ m: WeightMatrix) {
                if m.packed != nil { file.file.release(offset: m.data - file.file.base, count: m.rows * m.rowBytes) }
            }
            output.pack()
            release(output)
            for l in layers.indices {
                layers[l].pack()
                for m in layers[l].matrices { release(m) }
            }
        }
        self.tokenEmbedding = tokenEmbedding
        self.output = output
        self.layers = layers
        self.config = config
    }

    /// A KV cache sized for this model.
    public func makeCache(capacity: Int? = nil) -> KVCache {
        KVCache(layerCount: config.layerCount, kvDimension: config.kvDimension, capacity: capacity ?? contextLength)
    }

    /// Which logits a forward pass computes.
    public enum LogitsRequest: Sendable {
        /// Only the last position's (generation).
        case last
        /// Every position's (speculative verification, scoring).
        case all
        /// None (prefix caching).
        case none
    }

    /// Runs `tokens` through the model at positions `cache.count ..< cache.count + tokens.count`, appending their
    /// keys and values to `cache`. The whole batch goes through each weight matrix in one pass.
    /// - Returns: a pointer to the requested logits inside `buffers` (`[rows][vocabularySize]`), valid until the
    ///   next call with the same buffers.
    @discardableResult
    public func forward(tokens: [Int32], cache: KVCache, buffers: ForwardBuffers, logits: LogitsRequest = .last)
        -> UnsafePointer<Float>
    {
        let n = tokens.count
        precondition(n > 0, "forward needs at least one token")
        precondition(cache.count + n <= cache.capacity, "context full: \(cache.count + n) > \(cache.capacity)")
        let logitRows = logits == .all ? n : 1
        buffers.reserve(positions: n, logitRows: logitRows)
        let e = config.embeddingLength
        let first = cache.count
        let c = config
        for (i, token) in tokens.enumerated() {
            precondition(token >= 0 && Int(token) < c.vocabularySize, "token id \(token) out of range")
            tokenEmbedding.decodeRow(Int(token), into: buffers.hidden + i * e)
        }
        for (l, layer) in layers.enumerated() {
            backend.rmsNorm(
                buffers.hidden, weight: layer.attentionNorm, count: n, epsilon: c.normEpsilon, output: buffers.normed)
            let keys = cache.keys(layer: l) + first * c.kvDimension
            let values = cache.values(layer: l) + first * c.kvDimension
            backend.matmul(
                [layer.query, layer.key, layer.value], input: buffers.normed, count: n,
                outputs: [buffers.query, keys, values])
            backend.rope(
                buffers.query, count: n, heads: c.headCount, headDimension: c.headDimension,
                ropeDimension: c.ropeDimension, firstPosition: first, base: c.ropeBase)
            backend.rope(
                keys, count: n, heads: c.kvHeadCount, headDimension: c.headDimension, ropeDimension: c.ropeDimension,
                firstPosition: first, base: c.ropeBase)
            backend.attention(
                query: buffers.query, cache: cache, layer: l, firstPosition: first, count: n, heads: c.headCount,
                kvHeads: c.kvHeadCount, headDimension: c.headDimension, output: buffers.attended)
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
        cache.advance(by: n)
        switch logits {
        case .none:
            break
        case .last:
            backend.rmsNorm(
                buffers.hidden + (n - 1) * e, weight: outputNorm, count: 1, epsilon: c.normEpsilon,
                output: buffers.normed)
            backend.matmul(output, input: buffers.normed, count: 1, output: buffers.logits)
        case .all:
            backend.rmsNorm(
                buffers.hidden, weight: outputNorm, count: n, epsilon: c.normEpsilon, output: buffers.normed)
            backend.matmul(output, input: buffers.normed, count: n, output: buffers.logits)
        }
        return UnsafePointer(buffers.logits)
    }
}
