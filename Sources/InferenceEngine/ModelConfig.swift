import LLMTokenizer

/// Hyperparameters of a llama-family decoder, read from GGUF metadata.
public struct ModelConfig: Sendable, Equatable {
    public var architecture: String
    public var layerCount: Int
    public var embeddingLength: Int
    public var feedForwardLength: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDimension: Int
    public var ropeDimension: Int
    public var ropeBase: Float
    public var normEpsilon: Float
    public var vocabularySize: Int
    /// The context length the model was trained for.
    public var trainedContextLength: Int

    public var queryDimension: Int { headCount * headDimension }
    public var kvDimension: Int { kvHeadCount * headDimension }

    /// Reads the hyperparameters. An optional key that is missing takes its default; one that
    /// is present with the wrong type is an error (`GGUFError.wrongValueType`), never a default.
    static func read(from file: GGUFFile) throws -> ModelConfig {
        let architecture = try file.string("general.architecture")
        guard architecture == "llama" else { throw GGUFError.unsupportedArchitecture(architecture) }
        let p = architecture + "."
        let embedding = try file.int(p + "embedding_length")
        let heads = try file.int(p + "attention.head_count")
        let kvHeads = try file.intIfPresent(p + "attention.head_count_kv") ?? heads
        guard heads > 0, kvHeads > 0, heads % kvHeads == 0, embedding % heads == 0 else {
            throw GGUFError.invalidFile("head counts \(heads)/\(kvHeads) do not fit embedding length \(embedding)")
        }
        let headDimension = try file.intIfPresent(p + "attention.key_length") ?? embedding / heads
        let tokens = file.metadata["tokenizer.ggml.tokens"]?.arrayValue?.count
        let vocabulary = try file.intIfPresent(p + "vocab_size") ?? tokens ?? 0
        return ModelConfig(
            architecture: architecture,
            layerCount: try file.int(p + "block_count"),
            embeddingLength: embedding,
            feedForwardLength: try file.int(p + "feed_forward_length"),
            headCount: heads,
            kvHeadCount: kvHeads,
            headDimension: headDimension,
            ropeDimension: try file.intIfPresent(p + "rope.dimension_count") ?? headDimension,
            ropeBase: Float(try file.floatIfPresent(p + "rope.freq_base") ?? 10000),
            normEpsilon: Float(try file.floatIfPresent(p + "attention.layer_norm_rms_epsilon") ?? 1e-5),
            vocabularySize: vocabulary,
            trainedContextLength: try file.intIfPresent(p + "context_length") ?? 2048)
    }
}

extension GGUFFile {
    /// The integer under `key`; nil when the key is missing, an error when it holds another type.
    func intIfPresent(_ key: String) throws -> Int? {
        metadata[key] == nil ? nil : try int(key)
    }

    /// The number under `key`; nil when the key is missing, an error when it holds another type.
    func floatIfPresent(_ key: String) throws -> Double? {
        metadata[key] == nil ? nil : try float(key)
    }
}
