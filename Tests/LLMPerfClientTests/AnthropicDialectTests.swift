import Foundation
import LLMPerfClient
import LLMPerfCore
import Testing

/// Anthropic's Messages API: the request body and headers, and what each stream event yields.
/// The fixtures follow Anthropic's streaming reference (platform.claude.com/docs/build-with-claude/
/// streaming): message_start, ping, content blocks of thinking, text and tool_use with their
/// deltas (signature_delta included), message_delta with the stop reason and output tokens,
/// message_stop, and an `error` event mid-stream. Every byte split of the first two is replayed
/// in SSEParserTests.
@Suite struct AnthropicDialectTests {
    func replay(_ name: String) throws -> StreamReplay {
        StreamReplay.run(try Fixture.bytes(name), splits: [], dialect: AnthropicDialect())
    }

    @Test func thinkingThenTextWithUsage() throws {
        let r = try replay("anthropic_stream_thinking.sse")
        #expect(r.failure == nil && r.done && r.finished)
        // Three thinking deltas, then three text deltas; the signature and the empty block
        // starts are not chunks.
        #expect(r.chunks == 6)
        #expect(r.reasoning == [true, true, true, false, false, false])
        #expect(r.text == "Compare the decimals: 9.8 > 9.11.9.8 is larger.")
        // message_start's output_tokens (1) is a placeholder; message_delta's 6 is the count.
        #expect(r.usage == TokenUsage(promptTokens: 25, completionTokens: 6, cachedTokens: 0))
    }

    @Test func aToolUseBlockIsAnswerFromItsStart() throws {
        let r = try replay("anthropic_stream_tool_use.sse")
        #expect(r.failure == nil && r.done && r.finished)
        // "Checking.", the tool's name at its block start, then three non-empty argument fragments.
        #expect(r.chunks == 5 && r.reasoning.isEmpty)
        #expect(r.text == #"Checking.get_weather{"city": "Paris"}"#)
        #expect(r.usage?.completionTokens == 9)
    }

    @Test func anOverloadedErrorMidStreamIsHTTP529KeepingTheTokens() throws {
        let r = try replay("anthropic_stream_overloaded.sse")
        #expect(r.failure == .http(status: 529))
        #expect(r.chunks == 2 && r.text == "Hello,")
        #expect(!r.done)
        // Cut before message_delta: no output count, not message_start's placeholder of 1.
        #expect(r.usage == TokenUsage(promptTokens: 25, cachedTokens: 0))
    }

    /// Anthropic's `input_tokens` leaves out the tokens read from and written to the prompt cache
    /// (reported beside it): the prompt is their sum, and the cached share is read over it.
    @Test func cachedPromptTokensAddToTheInputTokens() {
        let start =
            #"data: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],"#
            + #""model":"m","usage":{"input_tokens":25,"cache_creation_input_tokens":7,"#
            + #""cache_read_input_tokens":1000,"output_tokens":1}}}"# + "\n\n"
        let r = StreamReplay.run(Array(start.utf8), splits: [], dialect: AnthropicDialect())
        #expect(r.usage == TokenUsage(promptTokens: 1_032, cachedTokens: 1_000))
        var body = ResponseAccumulator()
        let message =
            #"{"type":"message","content":[{"type":"text","text":"Hi."}],"stop_reason":"end_turn","#
            + #""usage":{"input_tokens":3,"cache_read_input_tokens":60,"output_tokens":2}}"#
        Array(message.utf8).withUnsafeBytes { AnthropicDialect().decodeBody($0, into: &body) }
        #expect(body.usage == TokenUsage(promptTokens: 63, completionTokens: 2, cachedTokens: 60))
    }

    @Test func errorTypesMapToTheirDocumentedStatuses() {
        let cases: [(String, Int)] = [
            ("invalid_request_error", 400), ("authentication_error", 401), ("permission_error", 403),
            ("not_found_error", 404), ("request_too_large", 413), ("rate_limit_error", 429), ("api_error", 500),
            ("overloaded_error", 529), ("something_new", 500),
        ]
        for (type, status) in cases {
            let event = #"{"type":"error","error":{"type":"\#(type)","message":"m"}}"#
            let r = StreamReplay.run(
                Array("event: error\ndata: \(event)\n\n".utf8), splits: [], dialect: AnthropicDialect())
            #expect(r.failure == .http(status: status), "\(type)")
        }
    }

    @Test func malformedAndUnknownEvents() {
        let unknown = StreamReplay.run(
            Array("event: future_event\ndata: {\"type\":\"future_event\",\"x\":[1]}\n\n".utf8), splits: [],
            dialect: AnthropicDialect())
        #expect(unknown.failure == nil && unknown.chunks == 0)
        let broken = StreamReplay.run(
            Array("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\n\n".utf8),
            splits: [], dialect: AnthropicDialect())
        #expect(broken.failure == .decode)
        // An escaped key goes to the slow path, which finds the same.
        let escaped = StreamReplay.run(
            Array(
                #"data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinkin\u0067":"hm"}}"#
                    .appending("\n\n").utf8), splits: [], dialect: AnthropicDialect())
        #expect(escaped.chunks == 1 && escaped.reasoning == [true] && escaped.text == "hm")
    }

    @Test func nonStreamingMessagesAndErrorBodies() {
        func decode(_ body: String) -> ResponseAccumulator {
            var r = ResponseAccumulator()
            Array(body.utf8).withUnsafeBytes { AnthropicDialect().decodeBody($0, into: &r) }
            return r
        }
        let message = decode(
            #"{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[{"type":"thinking","thinking":"Hmm.","signature":"x"},{"type":"text","text":"Yes."},{"type":"tool_use","id":"toolu_1","name":"f","input":{"a":1}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":30}}"#
        )
        #expect(message.failureKind == nil && message.sawFinish)
        #expect(message.chunkTokens == [30] && message.chunkReasoning.isEmpty)
        #expect(message.outputText == "Hmm.Yes.f")
        #expect(message.usage == TokenUsage(promptTokens: 12, completionTokens: 30))
        let thinkingOnly = decode(
            #"{"type":"message","content":[{"type":"thinking","thinking":"Hmm."}],"stop_reason":"max_tokens","usage":{"input_tokens":1,"output_tokens":8}}"#
        )
        #expect(thinkingOnly.chunkReasoning == [true])
        let error = decode(#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#)
        #expect(error.failureKind == .http(status: 429))
        let notAMessage = decode(#"{"hello":"world"}"#)
        #expect(notAMessage.failureKind == .decode)
    }

    @Test func requestBodyTranslatesToolsAndThinking() throws {
        let tool = RequestBodyValue.object([
            RequestBodyField(key: "type", value: .string("function")),
            RequestBodyField(
                key: "function",
                value: .object([
                    RequestBodyField(key: "name", value: .string("get_weather")),
                    RequestBodyField(key: "description", value: .string("Weather")),
                    RequestBodyField(
                        key: "parameters", value: .object([RequestBodyField(key: "type", value: .string("object"))])),
                ])),
        ])
        var workload = WorkloadSpec(
            prompts: [], maxTokens: 2048, temperature: 1, seed: 7, stream: true, includeUsage: true,
            extraBody: [RequestBodyField(key: "top_k", value: .integer(5))], tools: [tool],
            toolChoice: .object([
                RequestBodyField(key: "type", value: .string("function")),
                RequestBodyField(
                    key: "function", value: .object([RequestBodyField(key: "name", value: .string("get_weather"))])),
            ]))
        workload.reasoningBudgetTokens = 1024
        let body = AnthropicDialect().requestBody(
            prompt: Prompt(system: "Be brief.", user: "Weather in \"Paris\"?"), workload: workload,
            model: "claude-sonnet-4-5")
        #expect(
            String(decoding: body, as: UTF8.self)
                == #"{"model":"claude-sonnet-4-5","max_tokens":2048,"system":"Be brief.","messages":[{"role":"user","content":"Weather in \"Paris\"?"}],"temperature":1,"stream":true,"thinking":{"type":"enabled","budget_tokens":1024},"tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"get_weather"},"top_k":5}"#
        )
        workload.toolChoice = .string("required")
        let any = try #require(
            try JSONSerialization.jsonObject(
                with: Data(AnthropicDialect().requestBody(prompt: Prompt(user: "x"), workload: workload, model: "m")))
                as? [String: Any])
        #expect((any["tool_choice"] as? [String: Any])?["type"] as? String == "any")
    }

    @Test func theVersionHeaderIsSentUnlessTheScenarioSetsOne() {
        let plain = TransportConfig(url: "http://127.0.0.1:9/v1/messages", dialect: AnthropicDialect())
        #expect(plain.headerLines.contains("anthropic-version: 2023-06-01"))
        let pinned = TransportConfig(
            url: "http://127.0.0.1:9/v1/messages", dialect: AnthropicDialect(),
            headers: [
                HeaderSpec(name: "anthropic-version", value: "2024-01-01", template: "2024-01-01", isSecret: false)
            ])
        #expect(
            pinned.headerLines.filter { $0.lowercased().hasPrefix("anthropic-version:") } == [
                "anthropic-version: 2024-01-01"
            ])
        #expect(
            !TransportConfig(url: "http://x", dialect: OpenAIChatDialect()).headerLines.contains {
                $0.hasPrefix("anthropic")
            })
    }
}
