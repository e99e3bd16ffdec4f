import Foundation
import InferenceEngine
import InferenceTestSupport
import Testing

@testable import InferenceServer

/// `/v1/embeddings` on the transformer engine (a tiny test model): the model's mean-pooled, normalised last
/// hidden state of the raw text, computed on the inference thread between batched iterations.
@Suite("Embeddings on the transformer engine")
struct EmbeddingsTransformerTests {
    static func post(_ port: Int, _ json: String) async throws -> TestHTTPClient.Result {
        try await TestHTTPClient.post(port: port, path: "/v1/embeddings", json: json)
    }

    static func body(_ input: String) -> String { "{\"model\":\"tiny\",\"input\":\(input)}" }

    static func vectors(_ response: TestHTTPClient.Result) throws -> (vectors: [[Float]], promptTokens: Int?) {
        #expect(response.status == 200, "\(response.text)")
        let json = try response.json()
        let data = try #require(json["data"] as? [[String: Any]])
        let vectors = try data.enumerated().map { position, entry in
            #expect(entry["index"] as? Int == position)
            return try #require(entry["embedding"] as? [NSNumber]).map { $0.floatValue }
        }
        return (vectors, (json["usage"] as? [String: Int])?["prompt_tokens"])
    }

    /// Serves the tiny model (context 64, one thread) and hands over a second copy of it for expectations.
    func serve(_ body: (Int, TransformerModel) async throws -> Void) async throws {
        let path = try TinyModelFactory.path(type: .q8_0)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withServer(TransformerServingTests.configuration(modelPath: path)) { server in
            #expect(try await TransformerServingTests.waitUntilHealthy(server.port) == 200)
            let model = try TransformerModel.load(path: path, threads: 1, contextLength: 64)
            try await body(server.port, model)
        }
    }

    static func expectClose(_ a: [Float], _ b: [Float], _ context: String) {
        #expect(a.count == b.count, "\(context)")
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 1e-5, "\(context): max difference \(worst)")
    }

    @Test func theVectorIsTheModelsPooledEmbeddingOfTheRawText() async throws {
        try await serve { port, model in
            let tokens = model.tokenizer.encode("hello world", addSpecial: true)
            let expected = try model.pooledEmbedding(tokens: tokens, buffers: ForwardBuffers(config: model.config))
            let answer = try Self.vectors(try await Self.post(port, Self.body("\"hello world\"")))
            #expect(answer.vectors.count == 1 && answer.vectors[0].count == TinyModelFactory.embedding)
            #expect(answer.promptTokens == tokens.count)
            Self.expectClose(answer.vectors[0], expected, "text")
            // The same tokens given as ids: the same vector.
            let ids = "[" + tokens.map(String.init).joined(separator: ",") + "]"
            let byIDs = try Self.vectors(try await Self.post(port, Self.body(ids)))
            #expect(byIDs.vectors == answer.vectors && byIDs.promptTokens == tokens.count)
        }
    }

    @Test func aBatchIsItsInputsOneByOne() async throws {
        try await serve { port, model in
            let first = try Self.vectors(try await Self.post(port, Self.body("\"hello world\"")))
            let second = try Self.vectors(try await Self.post(port, Self.body("\"the cat sat\"")))
            let batch = try Self.vectors(try await Self.post(port, Self.body(#"["hello world", "the cat sat"]"#)))
            #expect(batch.vectors == first.vectors + second.vectors)
            #expect(batch.promptTokens == (first.promptTokens ?? 0) + (second.promptTokens ?? 0))
            #expect(first.vectors != second.vectors)
        }
    }

    @Test func inputsBeyondTheContextOrVocabularyAre400s() async throws {
        try await serve { port, model in
            let fits = "[" + Array(repeating: "5", count: 64).joined(separator: ",") + "]"
            #expect(try Self.vectors(try await Self.post(port, Self.body(fits))).promptTokens == 64)
            let tooLong = try await Self.post(
                port, Self.body("[" + fits + ",[" + (0..<65).map(String.init).joined(separator: ",") + "]]"))
            #expect(tooLong.status == 400)
            let error = try #require(try tooLong.json()["error"] as? [String: Any])
            #expect(error["code"] as? String == "context_length_exceeded" && error["param"] as? String == "input[1]")
            let outOfRange = try await Self.post(port, Self.body("[[1, \(model.vocabularySize)]]"))
            #expect(outOfRange.status == 400, "\(outOfRange.text)")
            #expect((try outOfRange.json()["error"] as? [String: Any])?["param"] as? String == "input[0]")
            let wide = try await Self.post(port, "{\"model\":\"tiny\",\"input\":\"a\",\"dimensions\":65}")
            #expect(wide.status == 400 && wide.text.contains("64 dimensions"))
            // The server still answers.
            #expect(try await Self.post(port, Self.body("\"hello\"")).status == 200)
        }
    }

    /// Embeddings run on the inference thread between the batched iterations of streams in progress.
    @Test func chatStreamsAndEmbeddingsAreServedTogether() async throws {
        try await serve { port, model in
            let tokens = model.tokenizer.encode("hello world", addSpecial: true)
            let expected = try model.pooledEmbedding(tokens: tokens, buffers: ForwardBuffers(config: model.config))
            let chat = TransformerServingTests.body("tell me a story", maxTokens: 24, stream: true)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        let streamed = try await TestHTTPClient.post(
                            port: port, path: "/v1/chat/completions", json: chat)
                        #expect(streamed.status == 200 && streamed.events.last == "[DONE]", "\(streamed.text)")
                    }
                }
                for _ in 0..<4 {
                    group.addTask {
                        let answer = try Self.vectors(
                            try await Self.post(port, Self.body(#"["hello world", "hello world"]"#)))
                        #expect(answer.vectors.count == 2)
                        for vector in answer.vectors { Self.expectClose(vector, expected, "concurrent") }
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    /// An embedding waiting for the inference thread when the server stops is answered 503, not left waiting.
    @Test func waitingEmbeddingsAreAnsweredAtShutdown() async throws {
        let path = try TinyModelFactory.path(type: .q8_0)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let engine = try TransformerServingEngine(path: path, servedName: "tiny", threads: 1, contextLength: 64)
        engine.setSchedulingPaused(true)
        let prompt = try engine.prepareEmbedding(EmbeddingInput(.text("hello"), param: "input"))
        let waiting = Task { try await engine.embed(EmbeddingRequest(prompts: [prompt], arrivalNanos: 0)) }
        try await Task.sleep(for: .milliseconds(50))
        #expect(engine.schedulerLoad.waiting == 1)
        engine.shutdown()
        await #expect(throws: BatchScheduler.shuttingDown) { try await waiting.value }
        await #expect(throws: BatchScheduler.shuttingDown) {
            try await engine.embed(EmbeddingRequest(prompts: [prompt], arrivalNanos: 0))
        }
    }
}
