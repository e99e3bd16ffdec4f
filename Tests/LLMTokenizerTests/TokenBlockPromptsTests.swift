import Foundation
import LLMTokenizer
import Testing

@Suite struct TokenBlockPromptsTests {
    static func blocks(seed: UInt64 = 7, blockTokens: Int = 16) throws -> TokenBlockPrompts {
        try TokenBlockPrompts(tokenizer: HuggingFaceTokenizerTests.fixture(), blockTokens: blockTokens, seed: seed)
    }

    @Test func promptsHaveExactlyTheTotalAskedFor() throws {
        var blocks = try Self.blocks()
        let exact = blocks.text
        for (ids, total) in [
            ([1, 2, 3], 48), ([1, 2, 3], 40), ([1, 2, 3], 33), ([1], 1), ([1, 2], 70), ([], 9), ([5], 0),
        ] {
            let prompt = blocks.prompt(hashIDs: ids.map(UInt64.init), totalTokens: total)
            #expect(exact.count(prompt) == total, "ids \(ids), \(total) tokens")
        }
    }

    @Test func sameIDsShareTheirText() throws {
        var blocks = try Self.blocks()
        let a = blocks.prompt(hashIDs: [10, 11, 12], totalTokens: 48)
        let b = blocks.prompt(hashIDs: [10, 11, 99], totalTokens: 48)
        let c = blocks.prompt(hashIDs: [42, 11, 12], totalTokens: 48)
        let shared = blocks.prompt(hashIDs: [10, 11], totalTokens: 32)
        #expect(a.hasPrefix(shared) && b.hasPrefix(shared))
        #expect(a != b)
        #expect(!c.hasPrefix(blocks.prompt(hashIDs: [10], totalTokens: 16)))
        // the block of id 11 is the same text wherever it stands
        let eleven = blocks.prompt(hashIDs: [11], totalTokens: 16)
        #expect(a.contains(eleven) && c.contains(eleven))
        #expect(blocks.cachedBlocks == 5)
        // a cut prompt is a prefix of the whole one
        #expect(a.hasPrefix(blocks.prompt(hashIDs: [10, 11, 12], totalTokens: 37)))
        // the same seed gives the same text in another instance; another seed another text
        var again = try Self.blocks()
        #expect(again.prompt(hashIDs: [10, 11, 12], totalTokens: 48) == a)
        var other = try Self.blocks(seed: 8)
        #expect(other.prompt(hashIDs: [10, 11, 12], totalTokens: 48) != a)
    }

    /// The bundled default model's vocabulary (skipped when `scripts/fetch-model` has not run): exact counts for
    /// Mooncake-sized blocks, and the time an 8k-token prompt of cached blocks takes.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: DefaultVocabulary.path)))
    func defaultVocabularyPromptsAreExact() throws {
        let tokenizer = try Tokenizer.load(path: DefaultVocabulary.path)
        var blocks = try TokenBlockPrompts(tokenizer: tokenizer, blockTokens: 512, seed: 1)
        let ids: [UInt64] = Array(100..<116)
        for total in [1, 511, 512, 513, 4000, 8192, 9000] {
            let prompt = blocks.prompt(hashIDs: ids, totalTokens: total)
            #expect(tokenizer.encode(prompt, addSpecial: false).count == total, "\(total) tokens")
        }
        let clock = ContinuousClock()
        let rounds = 200
        var length = 0
        let elapsed = clock.measure {
            for _ in 0..<rounds { length += blocks.prompt(hashIDs: ids, totalTokens: 8192).utf8.count }
        }
        print(
            "TokenBlockPrompts: 8192-token prompt of cached 512-token blocks: \(elapsed / rounds) each (\(length / rounds) bytes)"
        )
    }
}

enum DefaultVocabulary {
    /// Where `scripts/fetch-model` puts the default model (the same rule as `ModelLocator`).
    static var path: String { ModelLocator.defaultModelPath() }
}
