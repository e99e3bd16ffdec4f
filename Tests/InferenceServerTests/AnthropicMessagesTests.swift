import Foundation
import HTTPTypes
import InferenceEngine
import InferenceTestSupport
import Testing

@testable import InferenceServer

/// `POST /v1/messages` (Anthropic's Messages API) over a real loopback server: the exact events and bodies a
/// client sees, the synthetic engine's thinking and tool_use answers, stop reasons, errors in Anthropic's
/// shape, the faults, `--api-key`, the trace and `/metrics`.
@Suite("Anthropic Messages API")
struct AnthropicMessagesTests {
    /// One SSE event: its `event:` name and its `data:` payload.
    struct Event: Equatable, CustomStringConvertible {
        var name: String
        var data: String
        var description: String { "\(name) \(data)" }
    }

    static func configuration(
        reasoningTokens: Int = 0, toolCalls: Bool = false, ttftMs: Double = 0, itlMs: Double = 0,
        tracePath: String? = nil, maxBodyBytes: Int = 1 << 20, faults: FaultConfiguration? = nil,
        apiKey: String? = nil
    ) -> ServerConfiguration {
        ServerConfiguration(
            port: 0,
            engine: ServerConfiguration.synthetic(
                ttftMs: ttftMs, itlMs: itlMs, tokens: 16, contextLength: 4096, reasoningTokens: reasoningTokens,
                toolCalls: toolCalls),
            tracePath: tracePath, maxBodyBytes: maxBodyBytes, faults: faults, apiKey: apiKey)
    }

    static func body(maxTokens: Int? = 3, stream: Bool, model: String = "synthetic", extra: String = "") -> String {
        var body = "{\"model\":\"\(model)\""
        if let maxTokens { body += ",\"max_tokens\":\(maxTokens)" }
        body += ",\"messages\":[{\"role\":\"user\",\"content\":\"Say something\"}],\"stream\":\(stream)\(extra)}"
        return body
    }

    static func post(
        _ server: RunningServer, _ json: String, headers: [String: String] = [:]
    ) async throws -> TestHTTPClient.Result {
        var headers = headers
        headers["anthropic-version"] = headers["anthropic-version"] ?? "2023-06-01"
        return try await TestHTTPClient.post(port: server.port, path: "/v1/messages", json: json, headers: headers)
    }

    /// The events of an SSE body: each block an `event:` line and a `data:` line.
    static func events(_ text: String) throws -> [Event] {
        try text.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { block in
            let lines = block.components(separatedBy: "\n")
            guard lines.count == 2, lines[0].hasPrefix("event: "), lines[1].hasPrefix("data: ") else {
                throw TestFailure("not an event block: \(block)")
            }
            return Event(name: String(lines[0].dropFirst(7)), data: String(lines[1].dropFirst(6)))
        }
    }

    /// The message id of a stream (from message_start).
    static func messageID(_ events: [Event]) throws -> String {
        let start = try eventJSON(try #require(events.first).data)
        let id = try #require((start["message"] as? [String: Any])?["id"] as? String)
        #expect(id.hasPrefix("msg_") && id.count == 28)
        return id
    }

    static func textDelta(_ index: Int, _ text: String) -> Event {
        Event(
            name: "content_block_delta",
            data: "{\"type\":\"content_block_delta\",\"index\":\(index),\"delta\":{\"type\":\"text_delta\",\"text\":"
                + "\(JSONText.quoted(text))}}")
    }

    static func thinkingDelta(_ index: Int, _ text: String) -> Event {
        Event(
            name: "content_block_delta",
            data: "{\"type\":\"content_block_delta\",\"index\":\(index),\"delta\":{\"type\":\"thinking_delta\","
                + "\"thinking\":\(JSONText.quoted(text))}}")
    }

    static func blockStart(_ index: Int, _ block: String) -> Event {
        Event(
            name: "content_block_start",
            data: "{\"type\":\"content_block_start\",\"index\":\(index),\"content_block\":\(block)}")
    }

    static func blockStop(_ index: Int) -> Event {
        Event(name: "content_block_stop", data: "{\"type\":\"content_block_stop\",\"index\":\(index)}")
    }

    static func head(_ id: String, inputTokens: Int = 4) -> [Event] {
        [
            Event(
                name: "message_start",
                data: "{\"type\":\"message_start\",\"message\":{\"id\":\"\(id)\",\"type\":\"message\","
                    + "\"role\":\"assistant\",\"model\":\"synthetic\",\"content\":[],\"stop_reason\":null,"
                    + "\"stop_sequence\":null,\"usage\":{\"input_tokens\":\(inputTokens),\"output_tokens\":1}}}"),
            Event(name: "ping", data: "{\"type\":\"ping\"}"),
        ]
    }

    static func tail(_ stopReason: String, stopSequence: String? = nil, outputTokens: Int) -> [Event] {
        [
            Event(
                name: "message_delta",
                data: "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"\(stopReason)\",\"stop_sequence\":"
                    + "\(stopSequence.map(JSONText.quoted) ?? "null")},\"usage\":{\"output_tokens\":\(outputTokens)}}"
            ),
            Event(name: "message_stop", data: "{\"type\":\"message_stop\"}"),
        ]
    }

    /// `{"type":"error","error":{"type":…,"message":…}}` and nothing else; returns the error type.
    static func anthropicErrorType(_ response: TestHTTPClient.Result) throws -> String {
        let object = try response.json()
        #expect(Set(object.keys) == ["type", "error"], "\(response.text)")
        #expect(object["type"] as? String == "error")
        let error = try #require(object["error"] as? [String: Any])
        #expect(Set(error.keys) == ["type", "message"], "\(response.text)")
        #expect((error["message"] as? String)?.isEmpty == false)
        #expect(response.headers["content-type"] == "application/json")
        return try #require(error["type"] as? String)
    }

    // MARK: healthy answers

    @Test func plainTextStreamsTheExactEventSequence() async throws {
        try await withServer(Self.configuration()) { server in
            let response = try await Self.post(server, Self.body(maxTokens: 3, stream: true))
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "text/event-stream")
            let events = try Self.events(response.text)
            let id = try Self.messageID(events)
            #expect(response.headers["request-id"] == id && response.headers["x-request-id"] == id)
            let expected =
                Self.head(id) + [Self.blockStart(0, "{\"type\":\"text\",\"text\":\"\"}")]
                + ["lorem", " ipsum", " dolor"].map { Self.textDelta(0, $0) } + [Self.blockStop(0)]
                + Self.tail("max_tokens", outputTokens: 3)
            #expect(events == expected)
        }
    }

    @Test func nonStreamedAnswerIsOneMessageObject() async throws {
        try await withServer(Self.configuration()) { server in
            let response = try await Self.post(server, Self.body(maxTokens: 3, stream: false))
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "application/json")
            let id = try #require(try response.json()["id"] as? String)
            #expect(id.hasPrefix("msg_"))
            #expect(
                response.text
                    == "{\"id\":\"\(id)\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"synthetic\","
                    + "\"content\":[{\"type\":\"text\",\"text\":\"lorem ipsum dolor\"}],\"stop_reason\":\"max_tokens\","
                    + "\"stop_sequence\":null,\"usage\":{\"input_tokens\":4,\"output_tokens\":3}}")
        }
    }

    @Test func systemPromptAndTextBlocksReachTheChatTemplate() async throws {
        try await withServer(Self.configuration()) { server in
            // system (2 words) + user blocks "a b" and "c" (3 words) + assistant "ok" (1) + user (1):
            // 1 + (1+2) + (1+3) + (1+1) + (1+1) = 12 prompt tokens in the synthetic template
            let json = """
                {"model":"synthetic","max_tokens":2,"system":[{"type":"text","text":"be brief"}],\
                "messages":[{"role":"user","content":[{"type":"text","text":"a b"},{"type":"text","text":"c"}]},\
                {"role":"assistant","content":"ok"},{"role":"user","content":"go"}],"temperature":0.5,"top_p":0.9,\
                "thinking":{"type":"enabled","budget_tokens":1024},"tools":[{"name":"get_weather","input_schema":\
                {"type":"object"}}],"tool_choice":{"type":"tool","name":"get_weather"},"metadata":{"user_id":"u"}}
                """
            let response = try await Self.post(server, json)
            // budget_tokens must be below max_tokens: this one is refused, the same with max_tokens 2048 is not
            #expect(response.status == 400)
            let accepted = try await Self.post(
                server, json.replacingOccurrences(of: "\"max_tokens\":2", with: "\"max_tokens\":2048"))
            #expect(accepted.status == 200, "\(accepted.text)")
            let usage = try #require(try accepted.json()["usage"] as? [String: Any])
            #expect(usage["input_tokens"] as? Int == 12)
            #expect(usage["output_tokens"] as? Int == 2048)
        }
    }

    @Test func reasoningTokensFormAThinkingBlockBeforeTheText() async throws {
        try await withServer(Self.configuration(reasoningTokens: 2)) { server in
            let streamed = try await Self.post(server, Self.body(maxTokens: 4, stream: true))
            let events = try Self.events(streamed.text)
            let id = try Self.messageID(events)
            let signature = Event(
                name: "content_block_delta",
                data: "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\","
                    + "\"signature\":\"\(AnthropicEvents.signature)\"}}")
            let expected =
                Self.head(id) + [Self.blockStart(0, "{\"type\":\"thinking\",\"thinking\":\"\"}")]
                + [Self.thinkingDelta(0, "lorem"), Self.thinkingDelta(0, " ipsum"), signature, Self.blockStop(0)]
                + [Self.blockStart(1, "{\"type\":\"text\",\"text\":\"\"}")]
                + [Self.textDelta(1, "dolor"), Self.textDelta(1, " sit"), Self.blockStop(1)]
                + Self.tail("max_tokens", outputTokens: 4)
            #expect(events == expected)

            let body = try await Self.post(server, Self.body(maxTokens: 4, stream: false)).json()
            let content = try #require(body["content"] as? [[String: Any]])
            #expect(content.count == 2)
            #expect(content[0]["type"] as? String == "thinking" && content[0]["thinking"] as? String == "lorem ipsum")
            #expect(content[0]["signature"] as? String == AnthropicEvents.signature)
            #expect(content[1]["type"] as? String == "text" && content[1]["text"] as? String == "dolor sit")
            // output_tokens counts the thinking too
            #expect((body["usage"] as? [String: Any])?["output_tokens"] as? Int == 4)
        }
    }

    @Test func toolCallsAreOneToolUseBlockWhoseFragmentsAreTheInput() async throws {
        try await withServer(Self.configuration(toolCalls: true)) { server in
            let streamed = try await Self.post(server, Self.body(maxTokens: 5, stream: true))
            let events = try Self.events(streamed.text)
            let id = try Self.messageID(events)
            let start = try eventJSON(events[2].data)
            let block = try #require(start["content_block"] as? [String: Any])
            let toolID = try #require(block["id"] as? String)
            #expect(toolID.hasPrefix("toolu_") && toolID.count == 22)
            let fragments = ["{\"city\": \"", "dolor", " sit", "\"}"]
            let expected =
                Self.head(id)
                + [
                    Self.blockStart(
                        0, "{\"type\":\"tool_use\",\"id\":\"\(toolID)\",\"name\":\"get_weather\",\"input\":{}}")
                ]
                + fragments.map { fragment in
                    Event(
                        name: "content_block_delta",
                        data: "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\","
                            + "\"partial_json\":\(JSONText.quoted(fragment))}}")
                } + [Self.blockStop(0)] + Self.tail("tool_use", outputTokens: 5)
            #expect(events == expected)
            // the block's start is the first token, the fragments (one per further token) concatenate to a JSON object
            let partials = try events.filter { $0.name == "content_block_delta" }.map {
                try #require((try eventJSON($0.data)["delta"] as? [String: Any])?["partial_json"] as? String)
            }
            #expect(partials.count == 4)
            let input = try JSONSerialization.jsonObject(with: Data(partials.joined().utf8)) as? [String: Any]
            #expect(input?["city"] as? String == "dolor sit")

            let body = try await Self.post(server, Self.body(maxTokens: 5, stream: false)).json()
            #expect(body["stop_reason"] as? String == "tool_use")
            let content = try #require(body["content"] as? [[String: Any]])
            #expect(content.count == 1)
            #expect(content[0]["type"] as? String == "tool_use" && content[0]["id"] as? String == toolID)
            #expect(content[0]["name"] as? String == "get_weather")
            #expect((content[0]["input"] as? [String: Any])?["city"] as? String == "dolor sit")
        }
    }

    @Test func stopSequencesEndTheTextWithStopReasonStopSequence() async throws {
        try await withServer(Self.configuration()) { server in
            let extra = ",\"stop_sequences\":[\"zzz\",\"dolor\"]"
            let streamed = try await Self.post(server, Self.body(maxTokens: 5, stream: true, extra: extra))
            let events = try Self.events(streamed.text)
            let id = try Self.messageID(events)
            let expected =
                Self.head(id) + [Self.blockStart(0, "{\"type\":\"text\",\"text\":\"\"}")]
                + ["lorem", " ipsum", " "].map { Self.textDelta(0, $0) } + [Self.blockStop(0)]
                + Self.tail("stop_sequence", stopSequence: "dolor", outputTokens: 3)
            #expect(events == expected)

            let body = try await Self.post(server, Self.body(maxTokens: 5, stream: false, extra: extra)).json()
            #expect(body["stop_reason"] as? String == "stop_sequence")
            #expect(body["stop_sequence"] as? String == "dolor")
            #expect((body["content"] as? [[String: Any]])?.first?["text"] as? String == "lorem ipsum ")
        }
    }

    // MARK: errors

    @Test func badRequestsGetAnthropicErrorsWithTheirStatus() async throws {
        try await withServer(Self.configuration(maxBodyBytes: 4096)) { server in
            let cases: [(String, Int, String)] = [
                (Self.body(maxTokens: nil, stream: false), 400, "invalid_request_error"),
                ("{nope", 400, "invalid_request_error"),
                ("[1]", 400, "invalid_request_error"),
                (
                    Self.body(stream: false).replacingOccurrences(of: "\"max_tokens\":3", with: "\"max_tokens\":\"3\""),
                    400, "invalid_request_error"
                ),
                (Self.body(maxTokens: 0, stream: false), 400, "invalid_request_error"),
                (
                    Self.body(stream: false).replacingOccurrences(of: "\"user\"", with: "\"system\""), 400,
                    "invalid_request_error"
                ),
                (Self.body(stream: false, extra: ",\"temperature\":1.5"), 400, "invalid_request_error"),
                (
                    Self.body(stream: false, extra: ",\"thinking\":{\"type\":\"enabled\"}"), 400,
                    "invalid_request_error"
                ),
                (
                    Self.body(stream: false, extra: ",\"tool_choice\":{\"type\":\"tool\",\"name\":\"x\"}"), 400,
                    "invalid_request_error"
                ),
                (Self.body(stream: true, model: "claude-other"), 404, "not_found_error"),
                (
                    Self.body(stream: false, extra: ",\"pad\":\"\(String(repeating: "x", count: 5000))\""), 413,
                    "request_too_large"
                ),
            ]
            for (json, status, type) in cases {
                let response = try await Self.post(server, json)
                #expect(response.status == status, "\(json.prefix(120)): \(response.text)")
                #expect(try Self.anthropicErrorType(response) == type, "\(json.prefix(120))")
            }
            let missing = try await Self.post(server, Self.body(maxTokens: nil, stream: true))
            #expect(missing.text.contains("max_tokens"))
            // the wrong method, in Anthropic's shape too
            let get = try await TestHTTPClient.send(port: server.port, path: "/v1/messages")
            #expect(get.status == 405)
            #expect(try Self.anthropicErrorType(get) == "invalid_request_error")
            // the anthropic-version header is not required
            let bare = try await TestHTTPClient.post(
                port: server.port, path: "/v1/messages", json: Self.body(stream: false))
            #expect(bare.status == 200)
        }
    }

    @Test func engineRefusalsAndShutdownAreRateLimitAndOverloaded() async throws {
        let configuration = ServerConfiguration(port: 0, engine: .custom { RefusingEngine() })
        try await withServer(configuration) { server in
            var status = 0
            for _ in 0..<100 where status != 200 {
                status = try await TestHTTPClient.send(port: server.port, path: "/health").status
                if status != 200 { try await Task.sleep(for: .milliseconds(10)) }
            }
            // a full queue (what --max-queue answers): 429 rate_limit_error with Retry-After
            let full = try await Self.post(
                server, Self.body(stream: true).replacingOccurrences(of: "Say something", with: "queue"))
            #expect(full.status == 429)
            #expect(full.headers["retry-after"] == "1")
            #expect(try Self.anthropicErrorType(full) == "rate_limit_error")
            // shutting down: 503 overloaded_error, or on a stream an error event that ends it
            let closing = try await Self.post(server, Self.body(stream: false))
            #expect(closing.status == 503)
            #expect(try Self.anthropicErrorType(closing) == "overloaded_error")
            let streamed = try await Self.post(server, Self.body(stream: true))
            #expect(streamed.status == 200)
            let events = try Self.events(streamed.text)
            #expect(events.map(\.name) == ["message_start", "ping", "error"])
            #expect(
                events.last?.data
                    == "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"shutting down\"}}")
        }
    }

    // MARK: faults

    static func faults(after: Int = 2) -> FaultConfiguration {
        FaultConfiguration(selection: .every(.none), after: after, stall: .milliseconds(200), drip: .zero)
    }

    @Test func httpFaultsAnswerInAnthropicShape() async throws {
        try await withServer(Self.configuration(faults: Self.faults())) { server in
            let limited = try await Self.post(server, Self.body(stream: true), headers: ["x-llmperf-fault": "http_429"])
            #expect(limited.status == 429)
            #expect(limited.headers["retry-after"] == "1")
            #expect(try Self.anthropicErrorType(limited) == "rate_limit_error")
            let failed = try await Self.post(server, Self.body(stream: false), headers: ["x-llmperf-fault": "http_500"])
            #expect(failed.status == 500)
            #expect(try Self.anthropicErrorType(failed) == "api_error")
            let unknown = try await Self.post(server, Self.body(stream: true), headers: ["x-llmperf-fault": "nope"])
            #expect(unknown.status == 400)
            #expect(try Self.anthropicErrorType(unknown) == "invalid_request_error")
            #expect(unknown.text.contains("overloaded_mid_stream"))
        }
    }

    @Test func overloadedMidStreamSendsAnErrorEventAndEnds() async throws {
        try await withServer(Self.configuration(faults: Self.faults(after: 2))) { server in
            let header = ["x-llmperf-fault": "overloaded_mid_stream"]
            let streamed = try await Self.post(server, Self.body(maxTokens: 5, stream: true), headers: header)
            #expect(streamed.status == 200)
            let events = try Self.events(streamed.text)
            let id = try Self.messageID(events)
            let expected =
                Self.head(id) + [Self.blockStart(0, "{\"type\":\"text\",\"text\":\"\"}")]
                + [Self.textDelta(0, "lorem"), Self.textDelta(0, " ipsum")]
                + [
                    Event(
                        name: "error",
                        data:
                            "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}")
                ]
            #expect(events == expected)
            // not streamed: the 529 Anthropic answers overloaded_error with
            let plain = try await Self.post(server, Self.body(maxTokens: 5, stream: false), headers: header)
            #expect(plain.status == 529)
            #expect(try Self.anthropicErrorType(plain) == "overloaded_error")
            // the OpenAI endpoints refuse it rather than ignore it
            let chat = try await TestHTTPClient.post(
                port: server.port, path: "/v1/chat/completions", json: chatBody(maxTokens: 3, stream: true),
                headers: header)
            #expect(chat.status == 400)
            #expect(((try chat.json()["error"] as? [String: Any])?["code"] as? String) == "invalid_fault")
            // and the messages endpoint refuses the faults that alter OpenAI's chunks
            let malformed = try await Self.post(
                server, Self.body(stream: true), headers: ["x-llmperf-fault": "malformed_json"])
            #expect(malformed.status == 400)
            #expect(try Self.anthropicErrorType(malformed) == "invalid_request_error")
            #expect(malformed.text.contains("does not apply to /v1/messages"))
            #expect(malformed.text.contains("overloaded_mid_stream") && !malformed.text.contains("empty_choices"))
        }
    }

    @Test func resetMidStreamResetsAfterTheConfiguredDeltas() async throws {
        try await withServer(Self.configuration(faults: Self.faults(after: 2))) { server in
            let exchange = try await RawSocketClient.exchange(
                port: server.port,
                request: RawSocketClient.post(
                    "/v1/messages", json: Self.body(maxTokens: 6, stream: true),
                    headers: ["x-llmperf-fault": "reset_mid_stream"]))
            #expect(exchange.ending == .reset)
            let response = try #require(exchange.response)
            #expect(response.status == 200)
            #expect(response.chunks.complete == false)
            let deltas = response.jsonEvents.filter { $0["type"] as? String == "content_block_delta" }
            #expect(deltas.count == 2)
            #expect(!response.jsonEvents.contains { $0["type"] as? String == "message_stop" })
        }
    }

    @Test func framingFaultsApplyToTheNamedEvents() async throws {
        try await withServer(Self.configuration(faults: Self.faults())) { server in
            let crlf = try await Self.post(server, Self.body(stream: true), headers: ["x-llmperf-fault": "crlf"])
            #expect(crlf.text.contains("event: message_start\r\ndata: "))
            #expect(!crlf.text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
            let names = try Self.events(crlf.text.replacingOccurrences(of: "\r\n", with: "\n")).map(\.name)
            #expect(
                names == [
                    "message_start", "ping", "content_block_start", "content_block_delta", "content_block_delta",
                    "content_block_delta", "content_block_stop", "message_delta", "message_stop",
                ])
            let noStop = try await Self.post(server, Self.body(stream: true), headers: ["x-llmperf-fault": "no_done"])
            let events = try Self.events(noStop.text)
            #expect(events.last?.name == "message_delta")
            #expect(!events.contains { $0.name == "message_stop" })
        }
    }

    // MARK: --api-key

    @Test func apiKeyGuardsEveryCompletionEndpointInItsOwnShape() async throws {
        try await withServer(Self.configuration(apiKey: "sekrit-1")) { server in
            let port = server.port
            // OpenAI endpoints: Authorization: Bearer
            for path in ["/v1/chat/completions", "/v1/completions"] {
                let json =
                    path == "/v1/completions"
                    ? "{\"model\":\"synthetic\",\"prompt\":\"hi\",\"max_tokens\":2}" : chatBody(maxTokens: 2)
                for headers in [[:], ["Authorization": "Bearer wrong"], ["x-api-key": "sekrit-1"]] {
                    let refused = try await TestHTTPClient.post(port: port, path: path, json: json, headers: headers)
                    #expect(refused.status == 401, "\(path) \(headers)")
                    let error = try #require(try refused.json()["error"] as? [String: Any])
                    #expect(error["code"] as? String == "invalid_api_key")
                    #expect(error["type"] as? String == "invalid_request_error")
                    #expect(error["param"] is NSNull)
                    #expect(!refused.text.contains("wrong"))
                }
                let allowed = try await TestHTTPClient.post(
                    port: port, path: path, json: json, headers: ["Authorization": "bearer sekrit-1"])
                #expect(allowed.status == 200, "\(path): \(allowed.text)")
            }
            // /v1/messages: x-api-key
            for headers in [
                [:], ["x-api-key": "sekrit-2"], ["x-api-key": "sekrit-1x"], ["Authorization": "Bearer sekrit-1"],
            ] {
                let refused = try await Self.post(server, Self.body(stream: true), headers: headers)
                #expect(refused.status == 401, "\(headers)")
                #expect(try Self.anthropicErrorType(refused) == "authentication_error")
            }
            let allowed = try await Self.post(server, Self.body(stream: true), headers: ["x-api-key": "sekrit-1"])
            #expect(allowed.status == 200)
            #expect(try Self.events(allowed.text).last?.name == "message_stop")
            // health, readiness and metrics stay open
            for path in ["/health", "/ready", "/metrics"] {
                #expect(try await TestHTTPClient.send(port: port, path: path).status == 200, "\(path)")
            }
        }
    }

    @Test func serveTakesAnAPIKeyOnlyWhenItIsAWord() throws {
        #expect(ServeSettingsTests.complaint { $0.apiKey = "" } == "--api-key must be non-empty and without spaces")
        #expect(ServeSettingsTests.complaint { $0.apiKey = "a b" } != nil)
        var settings = ServeSettingsTests.settings()
        #expect(try settings.configuration().apiKey == nil)
        settings.apiKey = "k-1"
        try settings.validate()
        #expect(try settings.configuration().apiKey == "k-1")
    }

    @Test func keysCompareWholeAndBearerIsParsed() {
        #expect(APIKeyCheck.constantTimeEquals(Array("abc".utf8), Array("abc".utf8)))
        #expect(!APIKeyCheck.constantTimeEquals(Array("abd".utf8), Array("abc".utf8)))
        #expect(!APIKeyCheck.constantTimeEquals(Array("ab".utf8), Array("abc".utf8)))
        #expect(!APIKeyCheck.constantTimeEquals(Array("abcd".utf8), Array("abc".utf8)))
        #expect(!APIKeyCheck.constantTimeEquals([], Array("abc".utf8)))
        #expect(APIKeyCheck.bearerToken("Bearer k1") == "k1")
        #expect(APIKeyCheck.bearerToken("BEARER  k1") == "k1")
        #expect(APIKeyCheck.bearerToken("Basic k1") == nil)
        #expect(APIKeyCheck.bearerToken("Bearer ") == nil)
    }

    // MARK: trace and metrics

    @Test func traceRecordsEveryDeltaAtTheEnginePace() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("trace.tsv").path
        // itl wide enough that a loaded machine does not hand all four tokens over together
        try await withServer(Self.configuration(ttftMs: 40, itlMs: 100, tracePath: path)) { server in
            let text = try await Self.post(
                server, Self.body(maxTokens: 4, stream: true), headers: ["x-request-id": "m1"])
            #expect(try Self.events(text.text).filter { $0.name == "content_block_delta" }.count == 4)
        }
        let rows = try FaultModeTests.traceRows(path, requestID: "m1")
        #expect(
            rows.map(\.kind) == [
                "accept", "arrival", "fault:none", rows[3].kind, "role", "first_token", "token", "token", "token",
                "finish", "done",
            ])
        #expect(rows[3].kind.hasPrefix("remote_port:"))
        #expect(rows[0].nanos <= rows[1].nanos)
        let arrival = rows[1].nanos
        let content = rows.filter { $0.kind == "first_token" || $0.kind == "token" }.map(\.nanos)
        // token k is due at arrival + ttft + k·itl (absolute deadlines, as the chat endpoint paces them)
        #expect(content.count == 4)
        for (k, sent) in content.enumerated() { #expect(sent >= arrival + 40_000_000 + UInt64(k) * 100_000_000) }
        // and they leave as they come, not together at the end (when the stream started before its first token
        // was due: on a loaded machine the handler may start late, and then every token is due at once)
        if rows[4].nanos < arrival + 40_000_000 { #expect(content[0] < content[3]) }
        #expect(rows.last!.nanos >= content.last!)

        // a tool_use start is the call's first content and token, as the client counts it: 1 + 3 fragments
        let toolPath = directory.appendingPathComponent("tool.tsv").path
        try await withServer(Self.configuration(toolCalls: true, tracePath: toolPath)) { server in
            _ = try await Self.post(server, Self.body(maxTokens: 4, stream: true), headers: ["x-request-id": "t1"])
        }
        let toolRows = try FaultModeTests.traceRows(toolPath, requestID: "t1")
        #expect(toolRows.filter { $0.kind == "first_token" || $0.kind == "token" }.count == 4)
    }

    @Test func metricsCountMessagesUnderTheirEndpoint() async throws {
        try await withServer(Self.configuration()) { server in
            _ = try await Self.post(server, Self.body(stream: true))
            _ = try await Self.post(server, Self.body(stream: false))
            _ = try await Self.post(server, Self.body(maxTokens: nil, stream: false))
            let metrics = try await TestHTTPClient.send(port: server.port, path: "/metrics").text
            #expect(metrics.contains("llmperf_requests_total{endpoint=\"/v1/messages\",status=\"200\"} 2"))
            #expect(metrics.contains("llmperf_requests_total{endpoint=\"/v1/messages\",status=\"400\"} 1"))
            #expect(ServingOptimizationsTests.metricValue(metrics, "llmperf_generation_tokens_total") == 6)
        }
    }

    // MARK: the transformer engine

    @Test func transformerEngineAnswersMessagesStreamedAndNot() async throws {
        let path = try TinyModelFactory.path(type: .q8_0)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withServer(TransformerServingTests.configuration(modelPath: path)) { server in
            #expect(try await TransformerServingTests.waitUntilHealthy(server.port) == 200)
            let model = try TransformerModel.load(path: path, threads: 1, contextLength: 64)
            let templated = model.chatTemplate.render(
                messages: [(role: "system", content: "be brief"), (role: "user", content: "hello world")],
                addGenerationPrompt: true)
            let promptTokens = model.tokenizer.encode(templated, addSpecial: true).count
            let json = { (stream: Bool) in
                """
                {"model":"tiny","max_tokens":5,"temperature":0,"system":"be brief",\
                "messages":[{"role":"user","content":"hello world"}],"stream":\(stream)}
                """
            }
            let plain = try await Self.post(server, json(false))
            #expect(plain.status == 200, "\(plain.text)")
            let body = try plain.json()
            let usage = try #require(body["usage"] as? [String: Any])
            #expect(usage["input_tokens"] as? Int == promptTokens)
            let outputTokens = try #require(usage["output_tokens"] as? Int)
            #expect((1...5).contains(outputTokens))
            let stopReason = try #require(body["stop_reason"] as? String)
            #expect(stopReason == (outputTokens == 5 ? "max_tokens" : "end_turn"))
            let text = try #require((body["content"] as? [[String: Any]])?.first?["text"] as? String)

            let streamed = try await Self.post(server, json(true))
            let events = try Self.events(streamed.text)
            #expect(events.first?.name == "message_start" && events.last?.name == "message_stop")
            let deltas = try events.filter { $0.name == "content_block_delta" }.map {
                try #require((try eventJSON($0.data)["delta"] as? [String: Any])?["text"] as? String)
            }
            // one delta per piece; a piece may hold more than one token (bytes of one character)
            #expect(deltas.count >= 1 && deltas.count <= outputTokens)
            #expect(deltas.joined() == text)
            let last = try eventJSON(try #require(events.dropLast().last).data)
            #expect((last["delta"] as? [String: Any])?["stop_reason"] as? String == stopReason)
            #expect((last["usage"] as? [String: Any])?["output_tokens"] as? Int == outputTokens)
        }
    }
}

/// An engine that refuses a prompt of "queue" as a full queue does (what `--max-queue` answers), and answers
/// every other one as a server that is shutting down: 503 `server_shutting_down` from the stream.
private struct RefusingEngine: ServingEngine {
    var modelName: String { "synthetic" }
    var contextLength: Int { 4096 }

    func prepare(_ input: PromptInput) throws -> PreparedPrompt {
        guard case .chat(let messages) = input else { return PreparedPrompt(text: "", tokenCount: 1) }
        return PreparedPrompt(text: messages.map(\.content).joined(), tokenCount: 1)
    }

    func generate(_ request: GenerationRequest) -> GenerationStream {
        if request.prompt.text == "queue" {
            return .refused(
                APIError(
                    status: .tooManyRequests, message: "The queue is full.", type: "server_error", code: "queue_full"))
        }
        return GenerationStream(makeNext: {
            {
                throw APIError(
                    status: .serviceUnavailable, message: "shutting down", type: "server_error",
                    code: "server_shutting_down")
            }
        })
    }
}
