import Foundation
import LLMPerfClient
import LLMPerfCore
import Testing

/// llama.cpp's `/completion` and TGI's `/generate_stream` / `/generate`: the request bodies and what each
/// event yields. The fixtures follow each server's published reference: llama-server's README
/// (github.com/ggml-org/llama.cpp, tools/server/README.md, "POST /completion": partial results with
/// `content` and `stop: false`, the last one `stop: true` with the counts, `stop_type` and `timings`, draft
/// counts when speculative; errors as `{"error": {code, message, type}}`) and TGI's OpenAPI
/// (github.com/huggingface/text-generation-inference, docs/openapi.json: StreamResponse with `token`
/// `{id, text, logprob, special}`, `generated_text` and `details` on the last event; ErrorResponse
/// `{error, error_type}`). Every byte split of each stream is replayed here.
@Suite struct NativeDialectTests {
    /// The stream whole, then cut at every byte, then byte by byte: the same result each time.
    func replayEverySplit(_ name: String, _ dialect: any APIDialect) throws -> StreamReplay {
        let bytes = try Fixture.bytes(name)
        let whole = StreamReplay.run(bytes, splits: [], dialect: dialect)
        for i in 1..<bytes.count {
            let split = StreamReplay.run(bytes, splits: [i], dialect: dialect)
            #expect(split == whole, "\(name) split at \(i)")
            if split != whole { break }
        }
        #expect(StreamReplay.run(bytes, splits: Array(1..<bytes.count), dialect: dialect) == whole)
        return whole
    }

    @Test func llamaCppStreamEndsAtStopTrueWithUsageFromItsCounts() throws {
        let r = try replayEverySplit("llamacpp_stream.sse", LlamaCppDialect())
        #expect(r.failure == nil && r.done && r.finished)
        #expect(r.events.count == 5)
        // Four content events; the stop event's empty content is no chunk.
        #expect(r.chunks == 4 && r.tokens == [1, 1, 1, 1] && r.reasoning.isEmpty)
        #expect(r.text == "The sky is bl\u{fc}\n")
        // tokens_predicted and tokens_evaluated; cache_n as the cached prompt tokens.
        #expect(r.usage == TokenUsage(promptTokens: 11, completionTokens: 4, cachedTokens: 3))
        // The server's own timings: prompt_ms 12.5, predicted_ms 40.25, 6 drafted, 2 accepted, cache_n 3.
        #expect(
            r.serverTimings
                == ServerTimings(
                    promptNanos: 12_500_000, generationNanos: 40_250_000, draftTokens: 6, draftAcceptedTokens: 2,
                    cachedTokens: 3))
        #expect(LlamaCppDialect().streamIsComplete(try accumulator("llamacpp_stream.sse", LlamaCppDialect())))
    }

    @Test func llamaCppStreamWithoutTheStopEventIsIncomplete() throws {
        let bytes = try Fixture.bytes("llamacpp_stream.sse")
        let text = String(decoding: bytes, as: UTF8.self)
        let cut = String(text[..<text.range(of: "data: {\"index\":0,\"content\":\"\",")!.lowerBound])
        var r = ResponseAccumulator()
        feed(Array(cut.utf8), LlamaCppDialect(), into: &r)
        #expect(r.contentChunkCount == 4 && !r.sawDone)
        #expect(!LlamaCppDialect().streamIsComplete(r))
    }

    @Test func llamaCppErrorEventIsItsHTTPCodeKeepingTheTokens() throws {
        let r = try replayEverySplit("llamacpp_stream_error.sse", LlamaCppDialect())
        #expect(r.failure == .http(status: 500))
        #expect(r.chunks == 1 && r.text == "Hello" && !r.done)
    }

    @Test func llamaCppBodiesAndErrorBodies() throws {
        let error = decode(try Fixture.bytes("llamacpp_error_body.json"), LlamaCppDialect())
        #expect(error.failureKind == .http(status: 400))
        let whole = decode(
            Array(
                #"{"index":0,"content":"Blue light scatters.","tokens":[],"stop":true,"tokens_predicted":5,"tokens_evaluated":7,"stop_type":"eos","timings":{"prompt_n":7,"predicted_n":5}}"#
                    .utf8), LlamaCppDialect())
        #expect(whole.failureKind == nil && whole.sawFinish)
        #expect(whole.chunkTokens == [5] && whole.outputText == "Blue light scatters.")
        #expect(whole.usage == TokenUsage(promptTokens: 7, completionTokens: 5))
        // Only the timings' counts: they stand in.
        let timingsOnly = decode(
            Array(#"{"content":"x","stop":true,"timings":{"prompt_n":3,"predicted_n":2,"cache_n":1}}"#.utf8),
            LlamaCppDialect())
        #expect(timingsOnly.usage == TokenUsage(promptTokens: 3, completionTokens: 2, cachedTokens: 1))
        #expect(decode(Array(#"{"hello":"world"}"#.utf8), LlamaCppDialect()).failureKind == .decode)
        #expect(decode(Array("<html>".utf8), LlamaCppDialect()).failureKind == .decode)
    }

    @Test func anEscapedKeyReadsAsThePlainOne() {
        let r = StreamReplay.run(
            Array("data: {\"cont\\u0065nt\":\"hi\",\"stop\":false}\n\n".utf8), splits: [], dialect: LlamaCppDialect())
        #expect(r.chunks == 1 && r.text == "hi" && r.failure == nil)
        let broken = StreamReplay.run(
            Array("data: {\"content\":\"hi\",\n\n".utf8), splits: [], dialect: LlamaCppDialect())
        #expect(broken.failure == .decode)
    }

    @Test func tgiStreamCountsTheSpecialTokenWithoutItsText() throws {
        let r = try replayEverySplit("tgi_stream.sse", TGIDialect())
        #expect(r.failure == nil && r.done && r.finished)
        // Five token events, the last a special end-of-turn token: a chunk of one token, no text; the
        // final generated_text is not new content.
        #expect(r.chunks == 5 && r.tokens == [1, 1, 1, 1, 1])
        #expect(r.text == #" The sky is "blue""#)
        #expect(r.usage == TokenUsage(promptTokens: 9, completionTokens: 5))
    }

    @Test func tgiErrorEventIsTheStatusOfItsType() throws {
        let r = try replayEverySplit("tgi_stream_error.sse", TGIDialect())
        #expect(r.failure == .http(status: 424))
        #expect(r.chunks == 2 && r.text == "Hello," && !r.done)
        let cases: [(String, Int)] = [
            ("validation", 422), ("tokenizer", 422), ("generation", 424), ("overloaded", 429),
            ("incomplete_generation", 500), ("something_new", 500),
        ]
        for (type, status) in cases {
            let event = "data:{\"error\":\"e\",\"error_type\":\"\(type)\"}\n\n"
            #expect(
                StreamReplay.run(Array(event.utf8), splits: [], dialect: TGIDialect()).failure == .http(status: status))
        }
    }

    @Test func tgiGenerateBodies() {
        let body = decode(
            Array(
                #"{"generated_text":"Blue.","details":{"finish_reason":"length","generated_tokens":3,"seed":null,"prefill":[],"tokens":[{"id":1,"text":"Bl","logprob":-1,"special":false}]}}"#
                    .utf8), TGIDialect())
        #expect(body.failureKind == nil && body.sawFinish)
        #expect(body.chunkTokens == [3] && body.outputText == "Blue.")
        #expect(body.usage == TokenUsage(completionTokens: 3))
        let array = decode(Array(#"[{"generated_text":"A","details":null}]"#.utf8), TGIDialect())
        #expect(array.failureKind == nil && array.outputText == "A" && array.chunkTokens == [1])
        let error = decode(
            Array(#"{"error":"Input validation error: `inputs` cannot be empty","error_type":"validation"}"#.utf8),
            TGIDialect())
        #expect(error.failureKind == .http(status: 422))
        #expect(decode(Array(#"{"details":null}"#.utf8), TGIDialect()).failureKind == .decode)
    }

    @Test func requestBodies() {
        let workload = WorkloadSpec(
            prompts: [], maxTokens: 64, temperature: 0, seed: 7, stream: true, includeUsage: true,
            extraBody: [RequestBodyField(key: "cache_prompt", value: .bool(false))])
        let prompt = Prompt(system: "Be brief.", user: "Why \"blue\"?")
        #expect(
            String(
                decoding: LlamaCppDialect().requestBody(prompt: prompt, workload: workload, model: "m"), as: UTF8.self)
                == #"{"prompt":"Be brief.\n\nWhy \"blue\"?","n_predict":64,"stream":true,"temperature":0,"seed":7,"cache_prompt":false}"#
        )
        // Temperature 0 is left out for TGI (it refuses 0; without one it decodes greedily).
        #expect(
            String(decoding: TGIDialect().requestBody(prompt: prompt, workload: workload, model: "m"), as: UTF8.self)
                == #"{"inputs":"Be brief.\n\nWhy \"blue\"?","parameters":{"max_new_tokens":64,"seed":7,"details":true,"decoder_input_details":false,"cache_prompt":false}}"#
        )
        var warm = WorkloadSpec(prompts: [], temperature: 0.7, stream: false)
        warm.seed = nil
        #expect(
            String(
                decoding: TGIDialect().requestBody(prompt: Prompt(user: "x"), workload: warm, model: "m"), as: UTF8.self
            )
                == #"{"inputs":"x","parameters":{"temperature":0.7,"details":true,"decoder_input_details":false}}"#)
        #expect(
            String(
                decoding: LlamaCppDialect().requestBody(prompt: Prompt(user: "x"), workload: warm, model: "m"),
                as: UTF8.self)
                == #"{"prompt":"x","stream":false,"temperature":0.7}"#)
    }

    @Test func endpointPaths() {
        let llama = TargetSpec(api: .llamaCpp)
        #expect(llama.endpointURL(base: "http://127.0.0.1:8080") == "http://127.0.0.1:8080/completion")
        #expect(llama.endpointURL(base: "http://127.0.0.1:8080/completion/") == "http://127.0.0.1:8080/completion")
        let tgi = TargetSpec(api: .tgi)
        #expect(tgi.endpointURL(base: "http://h:3000/") == "http://h:3000/generate_stream")
        #expect(tgi.endpointURL(base: "http://h:3000", stream: false) == "http://h:3000/generate")
        #expect(tgi.endpointURL(base: "http://h:3000/generate", stream: true) == "http://h:3000/generate_stream")
        #expect(tgi.endpointURL(base: "http://h:3000/generate_stream", stream: false) == "http://h:3000/generate")
        // The local backend serves them at its root, the OpenAI paths under /v1.
        #expect(APIKind.tgi.localBaseURL(fromV1Base: "http://127.0.0.1:5/v1") == "http://127.0.0.1:5")
        #expect(APIKind.openAIChat.localBaseURL(fromV1Base: "http://127.0.0.1:5/v1") == "http://127.0.0.1:5/v1")
    }

    // MARK: helpers

    private func feed(_ bytes: [UInt8], _ dialect: any APIDialect, into r: inout ResponseAccumulator) {
        var parser = SSEParser()
        bytes.withUnsafeBytes { raw in
            parser.feed(raw) { event in dialect.decodeStreamEvent(name: event.name, data: event.data, into: &r) }
        }
    }

    private func accumulator(_ name: String, _ dialect: any APIDialect) throws -> ResponseAccumulator {
        var r = ResponseAccumulator()
        feed(try Fixture.bytes(name), dialect, into: &r)
        return r
    }

    private func decode(_ body: [UInt8], _ dialect: any APIDialect) -> ResponseAccumulator {
        var r = ResponseAccumulator()
        body.withUnsafeBytes { dialect.decodeBody($0, into: &r) }
        return r
    }
}
