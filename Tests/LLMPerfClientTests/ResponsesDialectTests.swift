import Foundation
import LLMPerfClient
import LLMPerfCore
import Testing

/// OpenAI's Responses API: the request body, and what each stream event yields. The fixtures
/// follow OpenAI's Responses streaming-events reference (`response.created`, output items,
/// `response.reasoning_text.delta`, `response.output_text.delta`, function-call argument
/// deltas, `response.completed` with `usage.output_tokens_details.reasoning_tokens`, and
/// `response.failed`); every byte split of the first two is replayed in SSEParserTests.
@Suite struct ResponsesDialectTests {
    func replay(_ name: String) throws -> StreamReplay {
        StreamReplay.run(try Fixture.bytes(name), splits: [], dialect: OpenAIResponsesDialect())
    }

    func replay(events: [String]) -> StreamReplay {
        StreamReplay.run(
            Array(events.map { "data: \($0)\n\n" }.joined().utf8), splits: [], dialect: OpenAIResponsesDialect())
    }

    @Test func reasoningThenTextWithUsage() throws {
        let r = try replay("responses_stream_reasoning.sse")
        #expect(r.failure == nil && r.done && r.finished)
        // Two reasoning deltas, then three text deltas; the `.done` events, the output items and
        // the final response's repeated output are not chunks.
        #expect(r.chunks == 5)
        #expect(r.reasoning == [true, true, false, false, false])
        #expect(r.text == "9.8 is larger.9.8 is larger \"\u{e9}\"")
        #expect(r.usage == TokenUsage(promptTokens: 12, completionTokens: 5, cachedTokens: 0, reasoningTokens: 2))
    }

    @Test func aFunctionCallIsAnswerFromItsOpening() throws {
        let r = try replay("responses_stream_tool_call.sse")
        #expect(r.failure == nil && r.done)
        // The call's name when its item is added, then three argument fragments; the finished
        // item (name and arguments again) is not a chunk.
        #expect(r.chunks == 4 && r.reasoning.isEmpty)
        #expect(r.text == #"get_weather{"city": "Paris"}"#)
        #expect(r.usage == TokenUsage(promptTokens: 40, completionTokens: 4, cachedTokens: 32, reasoningTokens: 0))
    }

    @Test func aFailedResponseIsItsErrorCodesStatusKeepingTheTokens() throws {
        let r = try replay("responses_stream_failed.sse")
        #expect(r.failure == .http(status: 500))
        #expect(r.chunks == 2 && r.text == "Hello,")
        #expect(!r.done)
        let limited = replay(events: [
            #"{"type":"response.output_text.delta","delta":"a"}"#,
            #"{"type":"error","code":"rate_limit_exceeded","message":"Slow down.","param":null,"sequence_number":2}"#,
        ])
        #expect(limited.failure == .http(status: 429) && limited.chunks == 1)
        let cases: [(String?, Int)] = [
            ("rate_limit_exceeded", 429), ("invalid_prompt", 400), ("context_length_exceeded", 400),
            ("server_error", 500), ("server_is_overloaded", 503), ("something_new", 500), (nil, 500),
        ]
        for (code, status) in cases {
            let field = code.map { #","code":"\#($0)""# } ?? ""
            let r = replay(events: [#"{"type":"error","message":"m"\#(field)}"#])
            #expect(r.failure == .http(status: status), "\(String(describing: code))")
        }
    }

    @Test func anIncompleteResponseEndsTheStreamAsALengthFinish() {
        let r = replay(events: [
            #"{"type":"response.reasoning_summary_text.delta","delta":"Thinking"}"#,
            #"{"type":"response.output_text.delta","delta":"Par"}"#,
            #"{"type":"response.incomplete","response":{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"usage":{"input_tokens":3,"output_tokens":16,"output_tokens_details":{"reasoning_tokens":15}}}}"#,
            #"{"type":"response.output_text.delta","delta":"after the end"}"#,
        ])
        #expect(r.failure == nil && r.done && r.finished)
        #expect(r.reasoning == [true, false] && r.text == "ThinkingPar")
        #expect(r.usage == TokenUsage(promptTokens: 3, completionTokens: 16, reasoningTokens: 15))
        // Without a final event the stream was cut.
        let cut = replay(events: [#"{"type":"response.output_text.delta","delta":"a"}"#])
        #expect(!cut.done && !OpenAIResponsesDialect().streamIsComplete(ResponseAccumulator()))
    }

    @Test func malformedUnknownAndEscapedEvents() {
        let unknown = replay(events: [#"{"type":"response.audio.delta","delta":"AAAA"}"#])
        #expect(unknown.failure == nil && unknown.chunks == 0 && unknown.text.isEmpty)
        let messageItem = replay(events: [
            #"{"type":"response.output_item.added","item":{"type":"message","name":"x"}}"#
        ])
        #expect(messageItem.chunks == 0)
        let broken = replay(events: [#"{"type":"response.output_text.delta","delta":"#])
        #expect(broken.failure == .decode)
        // An escaped key goes to the slow path, which finds the same.
        let escaped = replay(events: [#"{"type":"response.reasoning_text.delta","d\u0065lta":"hm"}"#])
        #expect(escaped.chunks == 1 && escaped.reasoning == [true] && escaped.text == "hm")
    }

    @Test func nonStreamingResponsesAndErrorBodies() {
        func decode(_ body: String) -> ResponseAccumulator {
            var r = ResponseAccumulator()
            Array(body.utf8).withUnsafeBytes { OpenAIResponsesDialect().decodeBody($0, into: &r) }
            return r
        }
        let whole = decode(
            #"{"id":"resp_1","object":"response","status":"completed","output":[{"type":"reasoning","summary":[{"type":"summary_text","text":"Hmm."}]},{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Yes.","annotations":[]}]},{"type":"function_call","name":"f","arguments":"{}","call_id":"c"}],"usage":{"input_tokens":12,"output_tokens":30,"output_tokens_details":{"reasoning_tokens":20}}}"#
        )
        #expect(whole.failureKind == nil && whole.sawFinish)
        #expect(whole.chunkTokens == [30] && whole.chunkReasoning.isEmpty)
        #expect(whole.outputText == "Hmm.Yes.f{}")
        #expect(whole.usage == TokenUsage(promptTokens: 12, completionTokens: 30, reasoningTokens: 20))
        let reasoningOnly = decode(
            #"{"object":"response","status":"incomplete","output":[{"type":"reasoning","content":[{"type":"reasoning_text","text":"Hmm."}]}],"usage":{"input_tokens":1,"output_tokens":8}}"#
        )
        #expect(reasoningOnly.chunkReasoning == [true] && reasoningOnly.chunkTokens == [8])
        let failed = decode(
            #"{"object":"response","status":"failed","output":[],"error":{"code":"rate_limit_exceeded","message":"m"}}"#
        )
        #expect(failed.failureKind == .http(status: 429))
        #expect(decode(#"{"hello":"world"}"#).failureKind == .decode)
        #expect(decode("[1,2]").failureKind == .decode)
    }

    @Test func requestBodyFlattensToolsAndSetsReasoningEffort() throws {
        let tool = RequestBodyValue.object([
            RequestBodyField(key: "type", value: .string("function")),
            RequestBodyField(
                key: "function",
                value: .object([
                    RequestBodyField(key: "name", value: .string("get_weather")),
                    RequestBodyField(
                        key: "parameters", value: .object([RequestBodyField(key: "type", value: .string("object"))])),
                ])),
        ])
        var workload = WorkloadSpec(
            prompts: [], maxTokens: 256, temperature: 0.5, seed: 7, stream: true, includeUsage: true,
            extraBody: [RequestBodyField(key: "store", value: .bool(false))], reasoningEffort: .low, tools: [tool],
            toolChoice: .object([
                RequestBodyField(key: "type", value: .string("function")),
                RequestBodyField(
                    key: "function", value: .object([RequestBodyField(key: "name", value: .string("get_weather"))])),
            ]))
        let body = OpenAIResponsesDialect().requestBody(
            prompt: Prompt(system: "Be brief.", user: "Weather in \"Paris\"?"), workload: workload, model: "gpt-5-mini")
        // No seed (the Responses API has none) and no stream_options (usage always comes at the end).
        #expect(
            String(decoding: body, as: UTF8.self)
                == #"{"model":"gpt-5-mini","instructions":"Be brief.","input":[{"role":"user","content":"Weather in \"Paris\"?"}],"max_output_tokens":256,"temperature":0.5,"stream":true,"reasoning":{"effort":"low"},"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object"}}],"tool_choice":{"type":"function","name":"get_weather"},"store":false}"#
        )
        workload.toolChoice = .string("required")
        let required = try #require(
            try JSONSerialization.jsonObject(
                with: Data(
                    OpenAIResponsesDialect().requestBody(prompt: Prompt(user: "x"), workload: workload, model: "m")))
                as? [String: Any])
        #expect(required["tool_choice"] as? String == "required")
        #expect(APIKind.openAIResponses.endpointPath == "/responses")
    }
}
