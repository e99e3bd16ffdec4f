import Foundation
import LLMTokenizer
import Testing

@Suite struct ExactTokenTextTests {
    @Test func textHasExactlyTheTokensAskedFor() throws {
        let exact = try ExactTokenText(tokenizer: HuggingFaceTokenizerTests.fixture())
        #expect(exact.pieces.count >= 8)
        for n in [0, 1, 2, 7, 64, 513] {
            let text = exact.text(tokens: n, seed: UInt64(n))
            #expect(exact.count(text) == n, "\(n) tokens asked for")
        }
        #expect(exact.text(tokens: 50, seed: 1) == exact.text(tokens: 50, seed: 1))
        #expect(exact.text(tokens: 50, seed: 1) != exact.text(tokens: 50, seed: 2))
    }

    @Test func aVocabularyWithoutWordsIsRefused() throws {
        let json =
            #"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}, "pre_tokenizer": {"type": "ByteLevel"}}"#
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tok-\(UUID().uuidString).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ExactTokenText.BuildError.tooFewPieces(found: 0)) {
            try ExactTokenText(tokenizer: Tokenizer.load(path: path))
        }
    }
}
