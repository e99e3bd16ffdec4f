import InferenceTestSupport
import LLMTokenizer
import Testing

@testable import InferenceEngine

@Suite struct TokenizerTests {
    static let trickyTexts = [
        "Hello, world!",
        "  two leading spaces, trailing  ",
        "line one\nline two\n\n\tindented\r\nwindows",
        "digits 1234567890 and 3.14159 and 1,000,000",
        "punctuation!!! ??? ... --- ((( ))) {}[]",
        "contractions: I'm, you're, it's, we've, they'll, I'd, can't",
        "中文测试：你好，世界。",
        "emoji 🎉👍🏽 family 👨‍👩‍👧 flags 🇫🇷",
        "code: func f(x: Int) -> Int { return x * 2 } // done",
        "mixed   \u{00A0}spaces\u{2003}here",
        "",
    ]

    func tokenizer(_ kind: TinyModelFactory.TokenizerKind) throws -> Tokenizer {
        var w = GGUFTestWriter()
        _ = TinyModelFactory.addTokenizer(kind, to: &w)
        return try Tokenizer(file: GGUFFile(path: w.write(name: "tok")))
    }

    @Test(arguments: [TinyModelFactory.TokenizerKind.bpe, .sentencePiece])
    func roundTripsTrickyText(kind: TinyModelFactory.TokenizerKind) throws {
        let t = try tokenizer(kind)
        for text in Self.trickyTexts {
            let ids = t.encode(text, addSpecial: false)
            #expect(t.decode(ids) == text, "\(kind) \(text.debugDescription) → \(ids)")
        }
    }

    @Test func bytePairMergesApplyInRankOrder() throws {
        let t = try tokenizer(.bpe)
        // "Ġt" + "he" → "Ġthe"; "Ġwor" + "ld"
        #expect(t.encode(" the world", addSpecial: false).map { t.tokens[Int($0)] } == ["Ġthe", "Ġwor", "ld"])
        // smollm pre-tokenizer: every digit alone, so " 12" is "Ġ", "1", "2" (the merge "Ġ 1" never applies)
        #expect(t.encode(" 12", addSpecial: false).map { t.tokens[Int($0)] } == ["Ġ", "1", "2"])
    }

    @Test func preTokenizers() {
        let text = "Hello world 12345!!\n\n"
        #expect(PreTokenizer(name: "default").split(text) == ["Hello", " world", " 12345", "!!", "\n\n"])
        #expect(
            PreTokenizer(name: "smollm").split(text) == ["Hello", " world", " ", "1", "2", "3", "4", "5", "!!", "\n\n"])
        #expect(PreTokenizer(name: "llama3").split(text) == ["Hello", " world", " ", "123", "45", "!!\n\n"])
        #expect(PreTokenizer(name: "llama3").split("I'M here") == ["I", "'M", " here"])
        #expect(PreTokenizer.isKnown("smollm"))
        #expect(!PreTokenizer.isKnown("qwen2"))
    }

    @Test func specialTokensAreRecognisedInText() throws {
        let t = try tokenizer(.bpe)
        let ids = t.encode("<|im_start|>user\nhi<|im_end|>", addSpecial: true)
        #expect(ids.first == 1)
        #expect(ids.last == 2)
        #expect(!t.encode("<|im_start|>", addSpecial: false, parseSpecial: false).contains(1))
        #expect(t.decode(ids) == "<|im_start|>user\nhi<|im_end|>")
        #expect(t.decode(ids, skipSpecial: true) == "user\nhi")
        #expect(t.endOfGenerationIDs == [2, 0])
    }

    @Test func sentencePieceUsesScoresAndByteFallback() throws {
        let t = try tokenizer(.sentencePiece)
        let ids = t.encode("the world", addSpecial: true)
        #expect(ids.first == 1)  // add_bos_token defaults to true for llama
        #expect(ids.dropFirst().map { t.tokens[Int($0)] } == ["▁the", "▁world"])
        let fallback = t.encode("é", addSpecial: false)
        #expect(fallback.map { t.tokens[Int($0)] } == ["▁", "<0xC3>", "<0xA9>"])
        #expect(t.decode(fallback) == "é")
    }

    @Test func streamingDetokenizerNeverSplitsCharacters() throws {
        let t = try tokenizer(.sentencePiece)
        let text = "a🎉中b"
        let ids = t.encode(text, addSpecial: false)
        var streaming = StreamingDetokenizer(tokenizer: t)
        var pieces: [String] = []
        for id in ids { pieces.append(streaming.append(id)) }
        pieces.append(streaming.flush())
        #expect(pieces.joined() == " " + text)
        for piece in pieces { #expect(!piece.contains("\u{FFFD}")) }
        #expect(pieces.filter { !$0.isEmpty }.count == 4)
    }

    @Test func chatTemplates() {
        let smol = ChatTemplate(
            template:
                "{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n'}}"
        )
        #expect(smol.format == .chatML)
        #expect(smol.defaultSystemPrompt == "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        #expect(
            smol.render(messages: [(role: "user", content: "Hi")], addGenerationPrompt: true)
                == "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        )
        #expect(
            smol.render(
                messages: [(role: "system", content: "S"), (role: "user", content: "Hi")], addGenerationPrompt: false)
                == "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n")
        let llama3 = ChatTemplate(template: "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' }}")
        #expect(llama3.format == .llama3)
        #expect(
            llama3.render(messages: [(role: "user", content: "Hi")], addGenerationPrompt: true)
                == "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
        )
        let llama2 = ChatTemplate(template: "{{ bos_token + '[INST] ' + content + ' [/INST]' }}")
        #expect(llama2.format == .llama2)
        #expect(
            llama2.render(
                messages: [
                    (role: "system", content: "Be brief."), (role: "user", content: "Hi"),
                    (role: "assistant", content: "Hello"), (role: "user", content: "Bye"),
                ],
                addGenerationPrompt: true)
                == "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nHi [/INST] Hello </s><s>[INST] Bye [/INST]")
        let unknown = ChatTemplate(template: "{{ message['content'] }}")
        #expect(unknown.format == .chatML)
        #expect(unknown.warning == "unrecognised chat template: using ChatML")
    }

    @Test func modelLocator() throws {
        let env = ["LLMPERF_CACHE": "/nonexistent/llmperf-cache", "HOME": "/root"]
        #expect(
            ModelLocator.defaultModelPath(environment: env)
                == "/nonexistent/llmperf-cache/SmolLM2-135M-Instruct.Q4_1.gguf")
        #expect(ModelLocator.cacheDirectory(environment: ["HOME": "/home/u"]) == "/home/u/.cache/llmperf/models")
        #expect(
            throws: ModelLocator.LocatorError.defaultModelMissing(
                path: "/nonexistent/llmperf-cache/SmolLM2-135M-Instruct.Q4_1.gguf")
        ) {
            try ModelLocator.resolve("default", environment: env)
        }
        #expect(
            ModelLocator.LocatorError.defaultModelMissing(path: "/x/m.gguf").description
                == "the default model is not installed (expected /x/m.gguf); run scripts/fetch-model to download it")
        #expect(throws: ModelLocator.LocatorError.fileNotFound(path: "/nonexistent/model.gguf")) {
            try ModelLocator.resolve("/nonexistent/model.gguf", environment: env)
        }
        let path = try TinyModelFactory.path(type: .f16)
        #expect(try ModelLocator.resolve(path, environment: env) == path)
    }
}
