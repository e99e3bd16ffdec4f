import InferenceTestSupport
import Testing

@testable import InferenceEngine

/// Continuous batching: many sequences in one forward pass give what each gives alone.
@Suite struct BatchedDecodeTests {
    static let prompts: [[Int32]] = [
        [5, 40, 100, 7, 200, 33, 260],
        [9, 9, 120],
        [230, 12, 77, 81, 5, 6, 7, 8, 9, 10, 11, 250],
        [42],
    ]

    func model(_ type: GGMLType, strategy: MatrixKernels.Strategy) throws -> TransformerModel {
        let path = try TinyModelFactory.path(type: type)
        let model = try TransformerModel(
            file: GGUFFile(path: path), threads: 2, contextLength: 48, backend: nil, packWeights: strategy == .simd)
        (model.backend as! CPUBackend).strategy = strategy
        return model
    }

    /// Each prompt decoded alone, one forward pass per token (independent of `SequenceDecoder`).
    func aloneTokens(_ model: TransformerModel, maxTokens: Int) throws -> [[Int32]] {
        try Self.prompts.map { try ForwardHarness.greedy(model, prompt: $0, maxTokens: maxTokens) }
    }

    func decoders(_ model: TransformerModel, maxTokens: Int, ignoreEOS: Bool = false) -> [SequenceDecoder] {
        Self.prompts.map {
            SequenceDecoder(
                model: model, cache: model.makeCache(), promptTokens: $0,
                parameters: GenerationParameters(maxTokens: maxTokens), ignoreEndOfSequence: ignoreEOS)
        }
    }

    @Test(arguments: [GGMLType.f32, .q4_1, .q8_0], [MatrixKernels.Strategy.scalar, .simd])
    func batchedDecodeMatchesDecodingEachAlone(type: GGMLType, strategy: MatrixKernels.Strategy) throws {
        let model = try model(type, strategy: strategy)
        let expected = try aloneTokens(model, maxTokens: 12)
        // All prompts prefilled whole, then decoded together; and with a small chunked-prefill budget so that some
        // sequences decode while others are still prefilling.
        for budget in [Int.max, 3] {
            let sequences = decoders(model, maxTokens: 12)
            var streamed = Array(repeating: [Int32](), count: sequences.count)
            try SequenceDecoder.runToCompletion(
                sequences, buffers: ForwardBuffers(config: model.config), prefillBudget: budget
            ) { index, tokens in streamed[index] += tokens }
            for (i, sequence) in sequences.enumerated() {
                #expect(sequence.generated == expected[i], "\(type.name) \(strategy) budget \(budget) sequence \(i)")
                #expect(streamed[i] == sequence.generated)
                #expect(sequence.state != .prefilling && sequence.state != .decoding)
            }
        }
    }

    @Test func batchedLogitsEqualSingleSequenceLogitsExactlyWithScalarKernels() throws {
        let model = try model(.q8_0, strategy: .scalar)
        let v = model.vocabularySize
        var alone: [[Float]] = []
        for prompt in Self.prompts {
            let buffers = ForwardBuffers(config: model.config)
            let logits = try model.forward(tokens: prompt, cache: model.makeCache(), buffers: buffers)
            alone.append(Array(UnsafeBufferPointer(start: logits, count: v)))
            withExtendedLifetime(buffers) {}
        }
        let caches = Self.prompts.map { _ in model.makeCache() }
        let entries = zip(Self.prompts, caches).map { BatchEntry(tokens: $0, cache: $1, logits: .last) }
        let buffers = ForwardBuffers(config: model.config)
        let batched = try model.forward(batch: entries, buffers: buffers)
        for i in Self.prompts.indices {
            #expect(Array(UnsafeBufferPointer(start: batched[i]!, count: v)) == alone[i], "sequence \(i)")
            #expect(caches[i].count == Self.prompts[i].count)
        }
        withExtendedLifetime(buffers) {}
    }

    @Test func mixedLogitRequestsReturnTheRightRows() throws {
        let model = try model(.f32, strategy: .scalar)
        let v = model.vocabularySize
        let referenceBuffers = ForwardBuffers(config: model.config)
        let all = try model.forward(
            tokens: Self.prompts[0], cache: model.makeCache(), buffers: referenceBuffers, logits: .all)
        let expected = Array(UnsafeBufferPointer(start: all, count: v * Self.prompts[0].count))
        withExtendedLifetime(referenceBuffers) {}
        let entries = [
            BatchEntry(tokens: Self.prompts[1], cache: model.makeCache(), logits: .none),
            BatchEntry(tokens: Self.prompts[0], cache: model.makeCache(), logits: .all),
            BatchEntry(tokens: Self.prompts[2], cache: model.makeCache(), logits: .last),
        ]
        let buffers = ForwardBuffers(config: model.config)
        let result = try model.forward(batch: entries, buffers: buffers)
        #expect(result[0] == nil)
        #expect(Array(UnsafeBufferPointer(start: result[1]!, count: expected.count)) == expected)
        #expect(result[2] != nil)
        withExtendedLifetime(buffers) {}
        #expect(entries.map(\.cache.count) == [3, 7, 12])
    }

    @Test func lengthLimitsAndIgnoringEndOfSequence() throws {
        let model = try model(.f32, strategy: .scalar)
        let sequences = decoders(model, maxTokens: 5, ignoreEOS: true)
        try SequenceDecoder.runToCompletion(sequences, buffers: ForwardBuffers(config: model.config))
        for sequence in sequences {
            #expect(sequence.generated.count == 5)
            #expect(sequence.state == .finished(.length))
        }
        // A prompt that fills the context leaves no room: finished at once, nothing run.
        let full = SequenceDecoder(
            model: model, cache: model.makeCache(capacity: 4), promptTokens: [1, 2, 3, 4],
            parameters: GenerationParameters(maxTokens: 3))
        #expect(full.state == .finished(.length))
        #expect(full.nextStep() == nil)
        // Capacity bounds the answer: 4 prompt tokens and 2 generated ones fill a 6-position cache; a third token is
        // chosen from the last logits but never run.
        let tight = SequenceDecoder(
            model: model, cache: model.makeCache(capacity: 6), promptTokens: [1, 2, 3, 4],
            parameters: GenerationParameters(maxTokens: 10), ignoreEndOfSequence: true)
        try SequenceDecoder.runToCompletion([tight], buffers: ForwardBuffers(config: model.config))
        #expect(tight.generated.count == 3)
        #expect(tight.state == .finished(.length))
    }
}
