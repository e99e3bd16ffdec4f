import Foundation
import InferenceEngine
import InferenceTestSupport
import LLMTokenizer
import Testing

@testable import VulkanEngine

/// Decoding on the device: batching, chunked prefill, speculation and the prefix cache give what plain decoding
/// gives, and a device whose bindings are too small for a tensor splits it.
@Suite(.serialized) struct VulkanDecodingTests {
    static let prompts: [[Int32]] = [
        [5, 40, 100, 7, 200, 33, 260],
        [9, 9, 120],
        [230, 12, 77, 81, 5, 6, 7, 8, 9, 10, 11, 250],
        [42],
    ]

    func decoders(_ model: TransformerModel, _ prompts: [[Int32]], maxTokens: Int, drafter: Bool = false)
        -> [SequenceDecoder]
    {
        prompts.map {
            SequenceDecoder(
                model: model, cache: model.makeCache(), promptTokens: $0,
                parameters: GenerationParameters(maxTokens: maxTokens), ignoreEndOfSequence: true,
                drafter: drafter ? NGramDrafter() : nil, draftTokens: 3)
        }
    }

    /// Each prompt decoded alone, greedily, one sequence at a time.
    func alone(_ model: TransformerModel, _ prompts: [[Int32]], maxTokens: Int) throws -> [[Int32]] {
        let buffers = ForwardBuffers(config: model.config)
        // The logits pointers point into the buffers: they live to the end.
        defer { withExtendedLifetime(buffers) {} }
        return try decoders(model, prompts, maxTokens: maxTokens).map { decoder in
            try decoder.run(buffers: buffers)
            return decoder.generated
        }
    }

    @Test func batchedDecodeOfFourSequencesEqualsDecodingEachAlone() throws {
        let context = try VulkanForwardTests.context()
        let (_, gpu, _) = try VulkanForwardTests.models(.q4_1, context: context)
        let expected = try alone(gpu, Self.prompts, maxTokens: 10)
        #expect(expected.allSatisfy { $0.count == 10 })
        for budget in [Int.max, 3] {
            let sequences = decoders(gpu, Self.prompts, maxTokens: 10)
            try SequenceDecoder.runToCompletion(
                sequences, buffers: ForwardBuffers(config: gpu.config), prefillBudget: budget)
            #expect(sequences.map(\.generated) == expected, "prefill budget \(budget)")
        }
    }

    @Test func batchedLogitsEqualEachSequenceAloneToTheBit() throws {
        let context = try VulkanForwardTests.context()
        let (_, gpu, _) = try VulkanForwardTests.models(.q8_0, context: context)
        let v = gpu.vocabularySize
        let buffers = ForwardBuffers(config: gpu.config)
        // The logits pointers point into the buffers: they live to the end.
        defer { withExtendedLifetime(buffers) {} }
        var aloneLogits: [[Float]] = []
        for prompt in Self.prompts {
            let p = try gpu.forward(tokens: prompt, cache: gpu.makeCache(), buffers: buffers)
            aloneLogits.append(Array(UnsafeBufferPointer(start: p, count: v)))
        }
        let batch = Self.prompts.map { BatchEntry(tokens: $0, cache: gpu.makeCache(), logits: .last) }
        let results = try gpu.forward(batch: batch, buffers: buffers)
        for (i, p) in results.enumerated() {
            #expect(Array(UnsafeBufferPointer(start: p!, count: v)) == aloneLogits[i], "sequence \(i)")
        }
    }

    @Test func speculativeGreedyOutputEqualsPlainGreedy() throws {
        let context = try VulkanForwardTests.context()
        let (_, gpu, _) = try VulkanForwardTests.models(.q8_0, context: context)
        // Repetitive prompts, so that the n-gram drafter proposes tokens and some are accepted.
        let prompts: [[Int32]] = [[5, 6, 7, 5, 6, 7, 5, 6, 7, 5, 6], [40, 41, 40, 41, 40, 41, 40]]
        let expected = try alone(gpu, prompts, maxTokens: 16)
        let buffers = ForwardBuffers(config: gpu.config)
        // The logits pointers point into the buffers: they live to the end.
        defer { withExtendedLifetime(buffers) {} }
        var drafted = 0
        for (i, decoder) in decoders(gpu, prompts, maxTokens: 16, drafter: true).enumerated() {
            try decoder.run(buffers: buffers)
            #expect(decoder.generated == expected[i], "prompt \(i)")
            drafted += decoder.speculation.drafted
        }
        #expect(drafted > 0, "the drafter proposed nothing: the test did not exercise verification")
    }

    /// A draft model on the device whose pass fails drafts nothing that step: the answer is still plain greedy's.
    @Test func aDraftModelsFailedPassOnlyCostsThatStepsDraft() throws {
        let context = try VulkanForwardTests.context()
        let (_, gpu, _) = try VulkanForwardTests.models(.q8_0, context: context)
        let (_, draft, draftAccelerator) = try VulkanForwardTests.models(.q8_0, context: context)
        let prompt: [Int32] = [5, 6, 7, 5, 6, 7, 5]
        let expected = try alone(gpu, [prompt], maxTokens: 12)[0]
        let decoder = SequenceDecoder(
            model: gpu, cache: gpu.makeCache(), promptTokens: prompt, parameters: GenerationParameters(maxTokens: 12),
            ignoreEndOfSequence: true, drafter: ModelDrafter(model: draft), draftTokens: 3)
        // The drafter's first pass (catching up with the prompt) fails.
        draftAccelerator.failNextPass = .call("vkQueueSubmit", -4)
        let buffers = ForwardBuffers(config: gpu.config)
        defer { withExtendedLifetime(buffers) {} }
        try decoder.run(buffers: buffers)
        #expect(draftAccelerator.failNextPass == nil, "the failure was not reached")
        #expect(decoder.generated == expected)
        // Later steps drafted again (the same weights: every draft is accepted).
        #expect(decoder.speculation.drafted > 0 && decoder.speculation.accepted == decoder.speculation.drafted)
    }

    @Test func prefixCacheRestoresDeviceKeysAndValues() throws {
        let context = try VulkanForwardTests.context()
        let (_, gpu, accelerator) = try VulkanForwardTests.models(.f16, context: context)
        let v = gpu.vocabularySize
        let prefixCache = PrefixCache(model: gpu, budgetBytes: 1 << 20, blockTokens: 4)
        let prompt: [Int32] = [3, 14, 15, 92, 65, 35, 89, 79, 32, 38]
        let buffers = ForwardBuffers(config: gpu.config)
        // The logits pointers point into the buffers: they live to the end.
        defer { withExtendedLifetime(buffers) {} }
        // Uncached: the whole prompt's last logits.
        let plain = try gpu.forward(tokens: prompt, cache: gpu.makeCache(), buffers: buffers)
        let expected = Array(UnsafeBufferPointer(start: plain, count: v))
        // Store the prompt's blocks from a device cache, then restore them into a fresh cache and run the rest.
        let first = gpu.makeCache()
        try gpu.forward(tokens: prompt, cache: first, buffers: buffers, logits: .none)
        prefixCache.store(tokens: prompt, from: first)
        let second = gpu.makeCache()
        let restored = prefixCache.restore(prefixOf: prompt, into: second)
        #expect(restored == 8)
        // The blocks stayed on the device: two stored from the first cache, two copied into the second.
        #expect(accelerator.prefixBlockCopies == (2, 2))
        let rest = try gpu.forward(tokens: Array(prompt[restored...]), cache: second, buffers: buffers)
        let actual = Array(UnsafeBufferPointer(start: rest, count: v))
        let error = zip(actual, expected).map { abs($0 - $1) }.max()!
        // Prefill of 10 rows against 8 restored + 2: the same rows' arithmetic, so equal up to nothing but the
        // attention tiles' order (none here: under 64 positions).
        #expect(error <= 1e-5 * expected.map(abs).max()!, "largest difference \(error)")
    }

    @Test func aDeviceWithSmallBindingsSplitsMatricesAndKeyValueBindings() throws {
        let small = try VulkanForwardTests.context(maxBindingBytes: 32 << 10)
        let (cpu, gpu, accelerator) = try VulkanForwardTests.models(.f32, context: small)
        let large = try VulkanForwardTests.context()
        let (_, reference, _) = try VulkanForwardTests.models(.f32, context: large)
        let prompts = Self.prompts + Self.prompts.map { $0.reversed() }
        let expected = try alone(reference, prompts, maxTokens: 6)
        let sequences = decoders(gpu, prompts, maxTokens: 6)
        try SequenceDecoder.runToCompletion(sequences, buffers: ForwardBuffers(config: gpu.config), prefillBudget: 3)
        #expect(sequences.map(\.generated) == expected)
        // The embedding (one row of 64 floats per token) needed several dispatches, and eight sequences' keys did
        // not fit one binding.
        #expect(cpu.vocabularySize * 64 * 4 > 32 << 10)
        #expect(!accelerator.keyValueBindingCoversEverySlot)
    }

    @Test func greedyTokensOnTheDefaultModelEqualTheCPUEngines() throws {
        let path = try ModelLocator.resolve("default")
        let context = try VulkanForwardTests.context()
        let cpu = try TransformerModel.load(path: path, threads: 2, contextLength: 64)
        let gpu = try TransformerModel.load(path: path, threads: 2, contextLength: 64, packWeights: false)
        try VulkanModel.attach(to: gpu, context: context)
        let prompt = cpu.tokenizer.encode("The capital of France is the city of", addSpecial: false)
        #expect(prompt.count == 8)
        let expected = try alone(cpu, [prompt], maxTokens: 6)
        let actual = try alone(gpu, [prompt], maxTokens: 6)
        #expect(actual == expected)
    }
}
