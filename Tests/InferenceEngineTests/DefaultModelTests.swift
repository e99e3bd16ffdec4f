import Foundation
import LLMTokenizer
import Testing

@testable import InferenceEngine

/// Tests on the real default model (SmolLM2-135M-Instruct Q4_1). A model that is not installed or does not load
/// fails them, with the reason (`scripts/fetch-model` installs it; `make test` runs it first).
@Suite(.serialized) struct DefaultModelTests {
    /// Loaded once for the suite; the error, if any, is thrown by each test.
    static let loaded: Result<TransformerModel, any Error> = Result {
        let path = try ModelLocator.resolve("default")
        return try TransformerModel.load(path: path, threads: 2, contextLength: 256)
    }

    static func model() throws -> TransformerModel {
        do {
            return try loaded.get()
        } catch {
            throw ModelUnavailable(
                description: "the default model did not load (scripts/fetch-model installs it): \(error)")
        }
    }

    struct ModelUnavailable: Error, CustomStringConvertible {
        var description: String
    }

    /// Reference ids from the Hugging Face `tokenizers` package (PyPI), built from this file's own vocabulary and
    /// merges with the SmolLM2 pre-tokenizer (individual digits, then GPT-2 byte-level).
    static let knownIDs: [(String, [Int32])] = [
        ("Hello, world!", [19556, 28, 905, 17]),
        ("What is the capital of France?", [1780, 314, 260, 3575, 282, 4649, 47]),
        ("The year 2024 had 366 days.", [504, 713, 216, 34, 32, 34, 36, 761, 216, 35, 38, 38, 2009, 30]),
        ("  leading spaces\n\nand newlines\ttabs", [216, 2899, 5600, 198, 198, 397, 725, 5110, 197, 100, 7366]),
        ("I'm can't we've they'll", [57, 5248, 416, 982, 392, 3543, 502, 3060]),
        ("你好，世界", [18645, 250, 48392, 138, 12831, 7906, 240, 178, 239, 230]),
        ("emoji 🎉👍🏽 test", [391, 33777, 15107, 232, 227, 10813, 235, 231, 10813, 233, 138, 1028]),
        ("def f(x):\n    return x**2  # square", [1604, 275, 24, 104, 727, 472, 1003, 1792, 828, 34, 216, 907, 5222]),
        ("<|im_start|>user\nHi<|im_end|>\n", [1, 4093, 198, 26843, 2, 198]),
        ("!!!??? ... ---", [29646, 16693, 47, 4563, 21749]),
    ]

    @Test func metadataAndKnownTokenIDs() throws {
        let model = try Self.model()
        #expect(model.name == "Smollm2 135M 8k Lc100K Mix1 Ep2")
        #expect(model.vocabularySize == 49152)
        #expect(model.config.layerCount == 30)
        #expect(model.tokenizer.kind == .bytePairEncoding(preTokenizer: "smollm"))
        #expect(model.eosTokenIDs.contains(2))
        #expect(model.chatTemplate.format == .chatML)
        for (text, ids) in Self.knownIDs {
            #expect(model.tokenizer.encode(text, addSpecial: true) == ids, "\(text.debugDescription)")
            #expect(model.tokenizer.decode(ids) == text)
        }
        for text in TokenizerTests.trickyTexts {
            #expect(model.tokenizer.decode(model.tokenizer.encode(text, addSpecial: false)) == text)
        }
    }

    @Test func greedyChatCompletionIsDeterministicAndCoherent() throws {
        let model = try Self.model()
        let prompt = model.chatTemplate.render(
            messages: [(role: "user", content: "What is the capital of France?")], addGenerationPrompt: true)
        let ids = model.tokenizer.encode(prompt, addSpecial: true)
        #expect(ids.count == 37)
        let buffers = ForwardBuffers(config: model.config)
        let prefixCache = PrefixCache(model: model, budgetBytes: 64 << 20)
        /// The text of a greedy completion, streamed piece by piece through a `StreamingDetokenizer`.
        func complete(maxTokens: Int) throws -> (decoder: SequenceDecoder, text: String, streamed: String) {
            let decoder = SequenceDecoder(
                model: model, cache: model.makeCache(), promptTokens: ids,
                parameters: GenerationParameters(maxTokens: maxTokens), prefixCache: prefixCache)
            var detokenizer = StreamingDetokenizer(tokenizer: model.tokenizer)
            var streamed = ""
            try decoder.run(buffers: buffers) { tokens in
                for token in tokens { streamed += detokenizer.append(token) }
                return true
            }
            streamed += detokenizer.flush()
            return (decoder, model.tokenizer.decode(decoder.generated), streamed)
        }
        // Debug builds are slow, so few tokens: "The capital of France is Paris" is six.
        let first = try complete(maxTokens: 6)
        #expect(first.text == first.streamed)
        #expect(first.text.contains("Paris"), "\(first.text)")
        #expect(first.decoder.state == .finished(.length) && first.decoder.cachedPromptTokens == 0)
        // Same prompt again, its prefix restored from the prefix cache: the same start.
        let second = try complete(maxTokens: 3)
        #expect(second.decoder.cachedPromptTokens > 0)
        #expect(first.text.hasPrefix(second.text))
        #expect(second.decoder.generated.count == 3)
    }
}
