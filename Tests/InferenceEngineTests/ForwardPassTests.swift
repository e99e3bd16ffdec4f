import InferenceTestSupport
import Testing

@testable import InferenceEngine

@Suite struct ForwardPassTests {
    static let prompt: [Int32] = [5, 40, 100, 7, 200, 33, 260]

    func model(
        _ type: GGMLType, strategy: MatrixKernels.Strategy, tied: Bool = true,
        tokenizer: TinyModelFactory.TokenizerKind = .bpe
    )
        throws -> (TransformerModel, String)
    {
        let path = try TinyModelFactory.path(type: type, tokenizer: tokenizer, tiedOutput: tied)
        let model = try TransformerModel(
            file: GGUFFile(path: path), threads: 2, contextLength: 32, backend: nil, packWeights: strategy == .simd)
        (model.backend as! CPUBackend).strategy = strategy
        return (model, path)
    }

    func expectClose(_ a: UnsafeBufferPointer<Float>, _ b: [Double], _ context: String) {
        let scale = max(1, b.map { abs($0) }.max()!)
        var worst = 0.0
        for i in 0..<b.count { worst = max(worst, abs(Double(a[i]) - b[i])) }
        #expect(worst <= 1e-4 * scale, "\(context): max difference \(worst) (scale \(scale))")
    }

    @Test(arguments: GGMLType.allCases, [MatrixKernels.Strategy.simd, .scalar])
    func batchedPrefillMatchesReference(type: GGMLType, strategy: MatrixKernels.Strategy) throws {
        let (model, path) = try model(type, strategy: strategy, tied: type != .q8_0)
        let reference = try ReferenceTransformer(path: path)
        let generator = ForwardHarness(model: model)
        let all = try generator.logitsForAll(Self.prompt)
        let v = model.vocabularySize
        for (i, token) in Self.prompt.enumerated() {
            let expected = reference.step(token)
            expectClose(UnsafeBufferPointer(start: all + i * v, count: v), expected, "\(type.name) position \(i)")
        }
        // Greedy continuation: identical tokens.
        var sampler = Sampler(parameters: .greedy)
        var engineTokens: [Int32] = []
        var referenceTokens: [Int32] = []
        var referenceLogits = reference.step(Self.prompt.last!)  // placeholder replaced below
        reference.keys = reference.keys.map { Array($0.dropLast()) }
        reference.values = reference.values.map { Array($0.dropLast()) }
        referenceLogits = []
        let fresh = try ReferenceTransformer(path: path)
        for token in Self.prompt { referenceLogits = fresh.step(token) }
        for _ in 0..<6 {
            let next = ReferenceTransformer.argmax(referenceLogits)
            referenceTokens.append(next)
            referenceLogits = fresh.step(next)
            engineTokens.append(try generator.step(&sampler))
        }
        #expect(engineTokens == referenceTokens, "\(type.name)")
    }

    @Test(arguments: GGMLType.allCases)
    func separateOutputMatrixAndSentencePieceModel(type: GGMLType) throws {
        let (model, path) = try model(type, strategy: .simd, tied: false, tokenizer: .sentencePiece)
        let reference = try ReferenceTransformer(path: path)
        let generator = ForwardHarness(model: model)
        let tokens: [Int32] = [1, 270, 280, 3, 100]
        try generator.prefill(tokens)
        var expected: [Double] = []
        for t in tokens { expected = reference.step(t) }
        expectClose(generator.currentLogits!, expected, "\(type.name) last position")
    }

    @Test func incrementalDecodeEqualsBatchedPrefillAndRollbackWorks() throws {
        let (model, _) = try model(.q4_1, strategy: .simd)
        let batched = ForwardHarness(model: model)
        let all = try batched.logitsForAll(Self.prompt)
        let v = model.vocabularySize
        let lastBatched = Array(UnsafeBufferPointer(start: all + (Self.prompt.count - 1) * v, count: v))
        let stepwise = ForwardHarness(model: model)
        for t in Self.prompt { try stepwise.prefill([t]) }
        let lastStepwise = Array(stepwise.currentLogits!)
        for i in 0..<v { #expect(abs(lastBatched[i] - lastStepwise[i]) <= 1e-4) }
        // Roll back two positions and redo them: same logits.
        stepwise.truncate(to: Self.prompt.count - 2)
        #expect(stepwise.cache.count == Self.prompt.count - 2)
        try stepwise.prefill(Array(Self.prompt.suffix(2)))
        let redone = Array(stepwise.currentLogits!)
        for i in 0..<v { #expect(abs(redone[i] - lastStepwise[i]) <= 1e-4) }
    }

    /// A sequence decoded alone with `SequenceDecoder.run`: its tokens for a prompt and seed are reproducible,
    /// `maxTokens` ends it with `.length`, and a callback that returns false cancels it.
    @Test func sequenceDecoderRunHonoursMaxTokensAndIsDeterministicWithSeed() throws {
        let (model, _) = try model(.q8_0, strategy: .simd)
        let buffers = ForwardBuffers(config: model.config)
        let cache = model.makeCache()
        func decode(_ parameters: GenerationParameters, onTokens: ([Int32]) -> Bool = { _ in true })
            throws -> (tokens: [Int32], streamed: [Int32], reason: FinishReason)
        {
            let decoder = SequenceDecoder(model: model, cache: cache, promptTokens: Self.prompt, parameters: parameters)
            var streamed: [Int32] = []
            let reason = try decoder.run(buffers: buffers) { tokens in
                streamed += tokens
                return onTokens(tokens)
            }
            #expect(decoder.state == .finished(reason))
            return (decoder.generated, streamed, reason)
        }
        let sampled = GenerationParameters(
            maxTokens: 5, sampling: SamplingParameters(temperature: 0.9, topK: 20, topP: 0.9, seed: 42))
        let first = try decode(sampled)
        let second = try decode(sampled)
        // The tiny model's weights are fixed: this prompt and seed give five tokens (no end-of-sequence).
        #expect(first.tokens.count == 5, "\(first.tokens)")
        #expect(first.streamed == first.tokens)
        #expect(first.tokens == second.tokens)
        #expect(first.reason == .length)
        // A longer budget goes on past five: maxTokens, not the model, stopped it.
        let longer = try decode(GenerationParameters(maxTokens: 7, sampling: sampled.sampling))
        #expect(longer.tokens.count == 7 && longer.reason == .length)
        #expect(Array(longer.tokens.prefix(5)) == first.tokens)
        var calls = 0
        let cancelled = try decode(GenerationParameters(maxTokens: 5)) { _ in
            calls += 1
            return false
        }
        #expect(calls == 1)
        #expect(cancelled.tokens.count == 1)
        #expect(cancelled.reason == .cancelled)
    }
}
