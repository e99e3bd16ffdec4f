import InferenceTestSupport
import Testing

@testable import InferenceEngine

/// `TransformerModel.pooledEmbedding` against `ReferenceTransformer`: the mean over positions of the last hidden
/// state after the final RMS norm, scaled to unit length.
@Suite struct EmbeddingTests {
    static let prompt: [Int32] = [5, 40, 100, 7, 200, 33, 260]

    /// The reference's pooled embedding: every position's final hidden state, averaged (or only the last one's).
    static func reference(path: String, tokens: [Int32], lastOnly: Bool = false) throws -> [Double] {
        let reference = try ReferenceTransformer(path: path)
        let states = tokens.map { reference.finalHidden($0) }
        var pooled = [Double](repeating: 0, count: states[0].count)
        for state in lastOnly ? [states.last!] : states {
            for i in pooled.indices { pooled[i] += state[i] }
        }
        let norm = pooled.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return pooled.map { $0 / norm }
    }

    static func maxDifference(_ a: [Float], _ b: [Double]) -> Double {
        zip(a, b).map { abs(Double($0) - $1) }.max()!
    }

    @Test(arguments: [GGMLType.f32, .f16, .q8_0, .q4_0])
    func meanPooledUnitVectorMatchesReference(type: GGMLType) throws {
        let path = try TinyModelFactory.path(type: type)
        let model = try TransformerModel.load(path: path, threads: 2, contextLength: 32)
        let buffers = ForwardBuffers(config: model.config)
        let vector = try model.pooledEmbedding(tokens: Self.prompt, buffers: buffers)
        #expect(vector.count == model.embeddingWidth)
        #expect(model.embeddingWidth == TinyModelFactory.embedding)
        let length = vector.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
        #expect(abs(length - 1) < 1e-5, "length \(length)")

        let expected = try Self.reference(path: path, tokens: Self.prompt)
        #expect(Self.maxDifference(vector, expected) < 1e-4, "\(type.name)")
        // The check tells pooling rules apart: the last position alone is far from the mean.
        let lastOnly = try Self.reference(path: path, tokens: Self.prompt, lastOnly: true)
        #expect(Self.maxDifference(vector, lastOnly) > 1e-2, "\(type.name)")
    }

    @Test func buffersLeftByOtherPassesDoNotChangeTheEmbedding() throws {
        let path = try TinyModelFactory.path(type: .q8_0)
        let model = try TransformerModel.load(path: path, threads: 2, contextLength: 32)
        let buffers = ForwardBuffers(config: model.config)
        let alone = try model.pooledEmbedding(tokens: [9, 8, 7], buffers: buffers)
        // A longer pass (a chat prefill on the same buffers), then the same input again: the same vector.
        try model.forward(tokens: Self.prompt + Self.prompt, cache: model.makeCache(), buffers: buffers, logits: .all)
        #expect(try model.pooledEmbedding(tokens: [9, 8, 7], buffers: buffers) == alone)
        #expect(try model.pooledEmbedding(tokens: [9, 8], buffers: buffers) != alone)
        // One token: the mean is that position's state.
        let single = try model.pooledEmbedding(tokens: [42], buffers: buffers)
        let expected = try Self.reference(path: path, tokens: [42])
        #expect(Self.maxDifference(single, expected) < 1e-4)
    }

    /// A long input in chunks of the scheduler's prefill size: the same vector as one pass, and the buffers
    /// stay at the chunk's size.
    @Test func chunkedPassesGiveTheSameVectorWithinTheChunksBuffers() throws {
        let path = try TinyModelFactory.path(type: .f32)
        let model = try TransformerModel.load(path: path, threads: 2, contextLength: 32)
        let whole = try model.pooledEmbedding(tokens: Self.prompt, buffers: ForwardBuffers(config: model.config))
        let buffers = ForwardBuffers(config: model.config)
        let chunked = try model.pooledEmbedding(tokens: Self.prompt, buffers: buffers, chunk: 3)
        #expect(Self.prompt.count > 3)
        #expect(buffers.capacity <= 3, "buffers grew to \(buffers.capacity) positions")
        let expected = try Self.reference(path: path, tokens: Self.prompt)
        #expect(Self.maxDifference(chunked, expected) < 1e-4)
        #expect(Self.maxDifference(chunked, whole.map(Double.init)) < 1e-5)
    }

    @Test func truncationKeepsTheLeadingValuesAtUnitLength() {
        let vector = EmbeddingVector.unitLength([3, 4, 12])
        #expect(vector == [Float(3.0 / 13), Float(4.0 / 13), Float(12.0 / 13)])
        let truncated = EmbeddingVector.truncated(vector, to: 2)
        #expect(truncated.count == 2 && abs(truncated[0] - 0.6) < 1e-6 && abs(truncated[1] - 0.8) < 1e-6)
        #expect(EmbeddingVector.truncated(vector, to: 3) == vector)
        #expect(EmbeddingVector.truncated(vector, to: 1) == [1])
        #expect(EmbeddingVector.unitLength([0, 0]) == [0, 0])
    }
}
