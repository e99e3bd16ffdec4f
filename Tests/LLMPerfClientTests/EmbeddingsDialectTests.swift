import Foundation
import LLMPerfClient
import LLMPerfCore
import Testing

/// `api: openai-embeddings`: request bodies (one input as a string, a batch as an array), what an answer
/// must hold (as many embeddings as inputs, one width, indexes 0…n−1, numbers or base64 float32s), and a
/// batched request through libcurl against a scripted server. The fixture follows the example answer of
/// OpenAI's API reference ("Create embeddings").
@Suite struct EmbeddingsDialectTests {
    let dialect = OpenAIEmbeddingsDialect()

    func decode(_ body: String, inputs: Int = 1) -> ResponseAccumulator {
        var r = ResponseAccumulator()
        r.expectedInputs = inputs
        Array(body.utf8).withUnsafeBytes { dialect.decodeBody($0, into: &r) }
        return r
    }

    static func item(_ index: Int, _ values: [Double]) -> String {
        #"{"object":"embedding","index":\#(index),"embedding":["#
            + values.map { String($0) }.joined(separator: ",") + "]}"
    }

    static func answer(_ items: [String], promptTokens: Int = 12) -> String {
        #"{"object":"list","data":["# + items.joined(separator: ",")
            + #"],"model":"m","usage":{"prompt_tokens":\#(promptTokens),"total_tokens":\#(promptTokens)}}"#
    }

    @Test func requestBodies() throws {
        var workload = WorkloadSpec(prompts: [Prompt(user: "a"), Prompt(system: "sys", user: "b")], stream: false)
        workload.extraBody = [RequestBodyField(key: "encoding_format", value: .string("base64"))]
        let one = String(
            decoding: dialect.requestBody(prompt: workload.prompts[0], workload: workload, model: "e"), as: UTF8.self)
        #expect(one == #"{"model":"e","input":"a","encoding_format":"base64"}"#)
        workload.batch = 3
        let prompts = workload.batchPrompts(startingAt: 1)
        #expect(prompts == [workload.prompts[1], workload.prompts[0], workload.prompts[1]])
        let batch = String(
            decoding: dialect.requestBody(prompts: prompts, workload: workload, model: "e"), as: UTF8.self)
        #expect(batch == #"{"model":"e","input":["sys\n\nb","a","sys\n\nb"],"encoding_format":"base64"}"#)
        // The other dialects send the first input of a batch.
        let chat = OpenAIChatDialect()
        #expect(
            chat.requestBody(prompts: prompts, workload: workload, model: "e")
                == chat.requestBody(prompt: prompts[0], workload: workload, model: "e"))
    }

    @Test func theReferenceAnswerIsOneEmbeddingAndNoTokens() throws {
        let bytes = try Fixture.bytes("openai_embeddings_body.json")
        var r = ResponseAccumulator()
        bytes.withUnsafeBytes { dialect.decodeBody($0, into: &r) }
        #expect(r.failureKind == nil, "\(r.failureDetail)")
        #expect(r.sawDone && r.contentChunkCount == 0)
        #expect(r.usage == TokenUsage(promptTokens: 8, completionTokens: 0))
        #expect(r.outputText == "1 embedding × 3")
    }

    @Test func aBatchInAnyOrderAndBase64() {
        let items = [Self.item(2, [0.5, 1e-3]), Self.item(0, [-1, 2]), Self.item(1, [3.25, 0])]
        let r = decode(Self.answer(items), inputs: 3)
        #expect(r.failureKind == nil, "\(r.failureDetail)")
        #expect(r.outputText == "3 embeddings × 2" && r.usage?.promptTokens == 12)
        // 3 float32 values = 12 bytes = 16 base64 characters; 2 values = 8 bytes = "…=" padded.
        let three = Data([Float](repeating: 0.5, count: 3).flatMap { withUnsafeBytes(of: $0) { Array($0) } })
            .base64EncodedString()
        let b64 = decode(#"{"data":[{"index":0,"embedding":"\#(three)"}],"usage":{"prompt_tokens":1}}"#)
        #expect(b64.failureKind == nil && b64.outputText == "1 embedding × 3 (base64)", "\(b64.failureDetail)")
        let two = Data([Float](repeating: 1, count: 2).flatMap { withUnsafeBytes(of: $0) { Array($0) } })
            .base64EncodedString()
        #expect(two.hasSuffix("="))
        #expect(decode(#"{"data":[{"embedding":"\#(two)"}]}"#).outputText == "1 embedding × 2 (base64)")
    }

    @Test(
        arguments: [
            (#"{"data":[],"usage":{"prompt_tokens":1}}"#, 1, "the answer holds 0 embeddings for 1 inputs"),
            (
                EmbeddingsDialectTests.answer([EmbeddingsDialectTests.item(0, [1, 2])]), 4,
                "the answer holds 1 embeddings for 4 inputs"
            ),
            (
                EmbeddingsDialectTests.answer([
                    EmbeddingsDialectTests.item(0, [1, 2]), EmbeddingsDialectTests.item(1, [1]),
                ]), 2,
                "data item 1 has 1 values, the first had 2"
            ),
            (
                EmbeddingsDialectTests.answer([
                    EmbeddingsDialectTests.item(0, [1]), EmbeddingsDialectTests.item(0, [1]),
                ]), 2,
                "the embeddings' indexes are not 0 to 1, each once"
            ),
            (
                #"{"data":[{"index":0,"embedding":["a"]}]}"#, 1,
                "data item 0's embedding is neither numbers nor base64 float32s"
            ),
            (
                #"{"data":[{"index":0,"embedding":"AAA"}]}"#, 1,
                "data item 0's embedding is neither numbers nor base64 float32s"
            ),
            (#"{"data":[{"index":0}]}"#, 1, "data item 0 has no embedding"),
            (#"{"data":[{"index":0,"embedding":[]}]}"#, 1, "data item 0 has no embedding"),
            (#"{"object":"list"}"#, 1, "the answer has no data list of embeddings"),
            (#"{"data":{}}"#, 1, "data is not a list"),
            ("<html>busy</html>", 1, "the answer is not a JSON object"),
            (#"{"data":[1,2"#, 1, "data item 0 is not an object"),
            (#"{"data":[]"#, 1, "malformed embeddings answer"),
        ] as [(String, Int, String)])
    func answersThatAreNotEmbeddingsAreDecodeFailures(body: String, inputs: Int, reason: String) {
        let r = decode(body, inputs: inputs)
        #expect(r.failureKind == .decode)
        #expect(r.failureDetail.hasPrefix(reason + ": "), "\(r.failureDetail)")
        #expect(r.usage == nil && r.outputText.isEmpty)
    }

    @Test func anErrorObjectAndAStreamFail() {
        let error = decode(#"{"error":{"message":"bad input","type":"invalid_request_error"}}"#)
        #expect(error.failureKind == .http(status: 500))
        #expect(error.failureDetail == #"error in body: {"message":"bad input","type":"invalid_request_error"}"#)
        var r = ResponseAccumulator()
        Array("{}".utf8).withUnsafeBytes {
            dialect.decodeStreamEvent(name: UnsafeRawBufferPointer(start: nil, count: 0), data: $0, into: &r)
        }
        #expect(r.failureKind == .decode && r.failureDetail.hasPrefix("the embeddings API answers with one JSON body"))
    }

    // MARK: through libcurl

    @Test func aBatchedRequestSendsEveryInputAndRecordsItsLatency() async throws {
        let items = (0..<4).map { Self.item($0, [0.25, -0.5, 1]) }
        let server = try ScriptedServer { _ in
            [
                .head(status: 200, contentType: "application/json"), .sleep(milliseconds: 30),
                .send(String(Self.answer(items, promptTokens: 20).prefix(40))), .sleep(milliseconds: 10),
                .send(String(Self.answer(items, promptTokens: 20).dropFirst(40))), .finish,
            ]
        }
        defer { server.stop() }
        var workload = WorkloadSpec(prompts: (0..<3).map { Prompt(user: "text \($0)") }, stream: false)
        workload.batch = 4
        let config = TestTransport.config(server.baseURL + "/v1/embeddings", streaming: false, dialect: dialect)
        let transport = CurlTransport(
            config: config, workload: workload, model: "e",
            load: LoadSpec(shape: .closed(concurrency: 1), stop: .requests(1)))
        let trace: RequestTrace = await withCheckedContinuation { done in
            _ = transport.send(RequestOrder(index: 0, isWarmup: false, promptIndex: 2)) { done.resume(returning: $0) }
        }
        #expect(trace.outcome == .ok, "\(trace.outcome)")
        #expect(trace.chunkAtNanos.isEmpty && trace.outputTokens == 0 && trace.inputTokens == 20)
        #expect(trace.outputText == "4 embeddings × 3")
        #expect(Metric.ttft.value(of: trace) == nil && Metric.e2e.value(of: trace) == nil)
        #expect(try #require(Metric.total.value(of: trace)) >= 30)
        let sent = try #require(server.receivedRequests.first)
        #expect(sent.path == "/v1/embeddings")
        #expect(sent.bodyText == #"{"model":"e","input":["text 2","text 0","text 1","text 2"]}"#)
        // The same answer for a request of 3 inputs is wrong.
        workload.batch = 3
        let three = CurlTransport(
            config: config, workload: workload, model: "e",
            load: LoadSpec(shape: .closed(concurrency: 1), stop: .requests(1)))
        let short: RequestTrace = await withCheckedContinuation { done in
            _ = three.send(RequestOrder(index: 1, isWarmup: false, promptIndex: 0)) { done.resume(returning: $0) }
        }
        #expect(short.outcome.failureKind == .decode)
        #expect(short.outcome.detail.hasPrefix("the answer holds 4 embeddings for 3 inputs"))
    }
}
