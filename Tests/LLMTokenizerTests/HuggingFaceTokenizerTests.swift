import Foundation
import LLMTokenizer
import Testing

@Suite struct HuggingFaceTokenizerTests {
    static var fixturePath: String {
        Bundle.module.url(forResource: "Fixtures/tiny-bpe-tokenizer", withExtension: "json")!.path
    }

    static func fixture() throws -> Tokenizer { try Tokenizer.load(path: fixturePath) }

    func names(_ t: Tokenizer, _ text: String) -> [String] {
        t.encode(text, addSpecial: false).map { t.tokens[Int($0)] }
    }

    /// Writes `json` to a temporary file and returns its path.
    func temporary(_ json: String, name: String = "tokenizer.json") throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent(name).path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func readsVocabularyMergesAndAddedTokens() throws {
        let t = try Self.fixture()
        #expect(t.kind == .bytePairEncoding(preTokenizer: "default"))
        #expect(t.warning == nil)
        #expect(names(t, " the cat sat on a mat") == ["Ġthe", "Ġcat", "Ġsat", "Ġon", "Ġa", "Ġmat"])
        // no merge without the leading space: byte by byte
        #expect(names(t, "the") == ["t", "h", "e"])
        // the added tokens are special (control) and recognised in text
        let end = try #require(t.id(of: "<|endoftext|>"))
        #expect(t.isSpecial(end))
        #expect(t.eosTokenID == end)
        #expect(t.endOfGenerationIDs.contains(end))
        #expect(names(t, "<|user|> the<|endoftext|>") == ["<|user|>", "Ġthe", "<|endoftext|>"])
        #expect(!t.addBOS)
        for text in [" the big red dog ran far", "Hello, wörld! 🎉\n\t 123", ""] {
            #expect(t.decode(t.encode(text, addSpecial: false)) == text)
        }
    }

    @Test func mergesWrittenAsPairsReadLikeStrings() throws {
        let strings = """
            {"model": {"type": "BPE", "vocab": {"Ġ": 0, "a": 1, "b": 2, "Ġa": 3, "Ġab": 4},
              "merges": ["Ġ a", "Ġa b"]}, "pre_tokenizer": {"type": "ByteLevel"}}
            """
        let pairs = strings.replacingOccurrences(of: #"["Ġ a", "Ġa b"]"#, with: #"[["Ġ", "a"], ["Ġa", "b"]]"#)
        #expect(pairs != strings)
        let fromStrings = try Tokenizer.load(path: temporary(strings))
        let fromPairs = try Tokenizer.load(path: temporary(pairs))
        #expect(names(fromStrings, " ab") == ["Ġab"])
        #expect(names(fromPairs, " ab") == ["Ġab"])
    }

    @Test func aTemplateThatStartsWithASpecialTokenAddsBOS() throws {
        let json = """
            {"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
             "added_tokens": [{"id": 1, "content": "<|begin_of_text|>", "special": true}],
             "pre_tokenizer": {"type": "ByteLevel"},
             "post_processor": {"type": "TemplateProcessing",
               "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A"}}]}}
            """
        let t = try Tokenizer.load(path: temporary(json))
        #expect(t.addBOS && t.bosTokenID == 1)
        #expect(t.encode("a", addSpecial: true) == [1, 0])
    }

    @Test func errorsNameTheFileAndWhatWasExpected() throws {
        let wordPiece = try temporary(#"{"model": {"type": "WordPiece", "vocab": {"a": 0}}}"#)
        #expect(
            throws: TokenizerFileError.unsupported(
                path: wordPiece, found: "model.type WordPiece", expected: "BPE (byte-level byte-pair encoding)")
        ) {
            try Tokenizer.load(path: wordPiece)
        }
        let noVocab = try temporary(#"{"model": {"type": "BPE", "merges": []}}"#)
        #expect(
            throws: TokenizerFileError.missing(
                path: noVocab, key: "model.vocab", expected: "an object of token strings to ids")
        ) {
            try Tokenizer.load(path: noVocab)
        }
        let badMerge = try temporary(
            #"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [7]}, "pre_tokenizer": {"type": "ByteLevel"}}"#)
        #expect(
            throws: TokenizerFileError.missing(
                path: badMerge, key: "model.merges[0]", expected: "a string \"a b\" or a pair [\"a\", \"b\"]")
        ) {
            try Tokenizer.load(path: badMerge)
        }
        let notByteLevel = try temporary(#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}"#)
        #expect(throws: TokenizerFileError.self) { try Tokenizer.load(path: notByteLevel) }
        let broken = try temporary(#"{"model": {"type": "BPE", "#)
        do {
            _ = try Tokenizer.load(path: broken)
            Issue.record("bad JSON was read")
        } catch let error as TokenizerFileError {
            guard case .badJSON(let path, _) = error else { throw error }
            #expect(path == broken)
            #expect(error.description.contains("expected a Hugging Face tokenizer.json"))
        }
        #expect(throws: TokenizerFileError.unreadable(path: "/nonexistent/tokenizer.json", reason: "no such file")) {
            try Tokenizer.load(path: "/nonexistent/tokenizer.json")
        }
    }

    @Test func aGGUFFileThatIsNotOneSaysSo() throws {
        let path = try temporary("not a gguf", name: "model.gguf")
        do {
            _ = try Tokenizer.load(path: path)
            Issue.record("a text file was read as GGUF")
        } catch let error as TokenizerFileError {
            #expect(error.description.contains(path))
            #expect(error.description.contains("not a GGUF file"))
        }
    }
}
