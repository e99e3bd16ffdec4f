import LLMTokenizer

/// A llama-family decoder loaded from a GGUF file, with its tokenizer and chat template.
///
/// Weights stay in the memory-mapped file in their stored format, unless a `WeightFormat` other than `native` asks
/// for them to be converted at load time. The model is immutable after loading, but its
/// compute backend keeps scratch memory, so forward passes must not run concurrently: give the model to one inference
/// thread (several `SequenceDecoder`s may share it on that thread).
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
    /// The weight format asked for at load time.
    public let weightFormat: WeightFormat

    public var vocabularySize: Int { config.vocabularySize }
    /// Token ids that end generation.
    public var eosTokenIDs: Set<Int32> { tokenizer.endOfGenerationIDs }

    /// The element types of the weight matrices as loaded (token embedding, output and layer matrices), after any
    /// conversion.
    public var matrixTypes: Set<GGMLType> {
        var types: Set<GGMLType> = [tokenEmbedding.type, output.type]
        for layer in layers { for m in layer.matrices { types.insert(m.type) } }
        return types
    }

    /// The weights for logs: the format asked for and the types in use, e.g. `native (Q4_1)` or `q8_0 (Q8_0)`.
    public var weightsDescription: String {
        "\(weightFormat) (\(matrixTypes.map(\.name).sorted().joined(separator: ", ")))"
    }

    public let layers: [LayerWeights]
    public let tokenEmbedding: WeightMatrix
    public let outputNorm: [Float]
    public let output: WeightMatrix
    /// Runs the forward passes instead of `backend` once attached (a GPU); set once, before the first pass.
    public var accelerator: ModelAccelerator? {
        didSet { precondition(oldValue == nil, "a model's accelerator is attached once") }
    }

    /// Where the forward passes run: `cpu`, or the accelerator's device.
    public var deviceDescription: String { accelerator?.deviceDescription ?? "cpu" }

    /// One layer's weights, as loaded.
    public struct LayerWeights: @unchecked Sendable {
        public let attentionNorm: [Float]
        public let query: WeightMatrix
        public let key: WeightMatrix
        public let value: WeightMatrix
        public let attentionOutput: WeightMatrix
        public let feedForwardNorm: [Float]
        public let gate: WeightMatrix
        public let up: WeightMatrix
        public let down: WeightMatrix

        public var matrices: [WeightMatrix] { [query, key, value, attentionOutput, gate, up, down] }
    }

    /// Loads a model.
    /// - Parameters:
    ///   - path: a GGUF file.
    ///   - threads: compute threads (the calling thread counts as one).
    ///   - contextLength: KV capacity per sequence; `nil` uses the trained length capped at 4096.
    ///   - weights: the format of the weight matrices; anything but `native` converts them at load time.
    ///   - backend: a compute backend to share with another model (a draft model), used on the same thread;
    ///     `nil` creates a `CPUBackend` with `threads` threads.
    ///   - packWeights: re-lay the matrices out for the CPU's fast kernels (the default in optimised builds); an
    ///     accelerator that copies the weights to its device loads them unpacked, so the stored bytes stay readable.
    public static func load(
        path: String, threads: Int = 2, contextLength: Int? = nil, weights: WeightFormat = .native,
        backend: ComputeBackend? = nil, packWeights: Bool? = nil
    ) throws -> TransformerModel {
        try TransformerModel(
            file: GGUFFile(path: path), threads: threads, contextLength: contextLength, backend: backend,
            packWeights: packWeights ?? (MatrixKernels.defaultStrategy == .simd), weights: weights)
    }

    /// Weight matrices are re-laid out for the fast kernels in optimised builds (unoptimised builds use the scalar
    /// kernels, which read the stored layout).
    public convenience init(
        file: GGUFFile, threads: Int = 2, contextLength: Int? = nil, backend: ComputeBackend? = nil,
        weights: WeightFormat = .native
    ) throws {
        try self.init(
            file: file, threads: threads, contextLength: contextLength, backend: backend,
            packWeights: MatrixKernels.defaultStrategy == .simd, weights: weights)
    }

    /// - Parameter packWeights: re-lay quantized matrices out for the fast kernels.
    public init(
        file: GGUFFile, threads: Int, contextLength: Int?, backend: ComputeBackend?, packWeights: Bool,
        weights: WeightFormat = .native
    ) throws {
        self.file = file
        weightFormat = weights
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
        // Conversion spreads rows over the CPU backend's threads (or a pool of `threads` for another backend).
        let conversionPool =
            weights.type == nil
            ? nil
            : ((self.backend as? CPUBackend) ?? ((self.backend as? ProfilingBackend)?.wrapped as? CPUBackend))?.pool
                ?? ThreadPool(threads: threads)
        /// The matrix in the requested format. Its file pages are released once converted: the converted copy is
        /// what the model reads.
        func converted(_ m: WeightMatrix) -> WeightMatrix {
            guard let type = weights.type, type != m.type else { return m }
            let result = m.converted(to: type, pool: conversionPool)
            file.file.release(offset: m.data - file.file.base, count: m.rows * m.rowBytes)
            return result
        }
        /// The matrix as the kernels read it: converted to the requested format, then packed, one matrix at a time,
        /// so that at most one matrix is held twice at any moment. The packed copy is what the kernels read: the
        /// file pages are dropped from memory once packed (embedding rows are read again on demand), and a
        /// converted matrix's own bytes go too (the packed copy decodes rows exactly for every conversion target,
        /// Q8_0, Q4_0 and F16), so `--weights q8_0` keeps one copy of the weights, not two.
        func prepared(_ m: WeightMatrix) -> WeightMatrix {
            var m = converted(m)
            guard packWeights else { return m }
            m.pack()
            guard m.packed != nil else { return m }
            if m.owner === file {
                file.file.release(offset: m.data - file.file.base, count: m.rows * m.rowBytes)
            } else if let storage = m.owner as? WeightStorage {
                storage.discard()
            }
            return m
        }
        let e = config.embeddingLength
        outputNorm = try vector("output_norm.weight", e)
        // The embedding is converted too: with a tied output it is the output matrix, and either way the model then
        // equals one whose file was quantized to the format.
        let tied = file.tensors["output.weight"] == nil
        let embedding = try matrix("token_embd.weight", rows: config.vocabularySize, columns: e)
        // A tied output is the embedding: the model keeps the packed one, whose rows the embedding lookup decodes
        // when the converted bytes were discarded.
        let tokenEmbedding = tied ? prepared(embedding) : converted(embedding)
        let output =
            tied ? tokenEmbedding : prepared(try matrix("output.weight", rows: config.vocabularySize, columns: e))
        let layers = try (0..<config.layerCount).map { l in
            let p = "blk.\(l)."
            return LayerWeights(
                attentionNorm: try vector(p + "attn_norm.weight", e),
                query: prepared(try matrix(p + "attn_q.weight", rows: config.queryDimension, columns: e)),
                key: prepared(try matrix(p + "attn_k.weight", rows: config.kvDimension, columns: e)),
                value: prepared(try matrix(p + "attn_v.weight", rows: config.kvDimension, columns: e)),
                attentionOutput: prepared(
                    try matrix(p + "attn_output.weight", rows: e, columns: config.queryDimension)),
                feedForwardNorm: try vector(p + "ffn_norm.weight", e),
                gate: prepared(try matrix(p + "ffn_gate.weight", rows: config.feedForwardLength, columns: e)),
                up: prepared(try matrix(p + "ffn_up.weight", rows: config.feedForwardLength, columns: e)),
                down: prepared(try matrix(p + "ffn_down.weight", rows: e, columns: config.feedForwardLength)))
        }
        self.tokenEmbedding = tokenEmbedding
        self.output = output
        self.layers = layers
        self.config = config
    }

    /// A KV cache sized for this model.
    public func makeCache(capacity: Int? = nil) -> KVCache {
        let cache = KVCache(
            layerCount: config.layerCount, kvDimension: config.kvDimension, capacity: capacity ?? contextLength)
        accelerator?.attach(cache)
        return cache
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
    ///   next call with the same buffers. Throws what an accelerator's device failed with, as `forward(batch:)`.
    @discardableResult
    public func forward(tokens: [Int32], cache: KVCache, buffers: ForwardBuffers, logits: LogitsRequest = .last)
        throws -> UnsafePointer<Float>
    {
        precondition(!tokens.isEmpty, "forward needs at least one token")
        let result = try forward(batch: [BatchEntry(tokens: tokens, cache: cache, logits: logits)], buffers: buffers)
        return result[0] ?? UnsafePointer(buffers.logits)
    }
}
