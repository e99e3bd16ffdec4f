import LLMTokenizer

extension Tokenizer {
    /// The tokenizer of a model file already mapped by the engine.
    public convenience init(file: GGUFFile) throws {
        try self.init(metadata: file.metadata)
    }
}
