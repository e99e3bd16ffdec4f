import Foundation
import HTTPTypes
import InferenceEngine
import InferenceTestSupport
import Testing

@testable import InferenceServer

/// `POST /v1/responses` (OpenAI's Responses API) over a real loopback server: the typed events a client
/// sees, numbered in sequence, the synthetic engine's reasoning and function-call answers, the final
/// response with usage, the non-streamed response object, errors in OpenAI's shape, `--api-key`, the faults
/// that apply and the trace.
@Suite("Responses API")
struct ResponsesAPITests {
    typealias Event = AnthropicMessagesTests.Event

    static func configuration(
        reasoningTokens: Int = 0, toolCalls: Bool = false, tracePath: String? = nil, apiKey: String? = nil
    ) -> ServerConfiguration {
        ServerConfiguration(
            port: 0,
            engine: ServerConfiguration.synthetic(
                ttftMs: 0, itlMs: 0, tokens: 16, contextLength: 4096, reasoningTokens: reasoningTokens,
                toolCalls: toolCalls),
            tracePath: tracePath, apiKey: apiKey)
    }

    static func body(maxTokens: Int? = 3, stream: Bool, extra: String = "") -> String {
        var body = "{\"model\":\"synthetic\",\"input\":\"Say something\""
        if let maxTokens { body += ",\"max_output_tokens\":\(maxTokens)" }
        return body + ",\"stream\":\(stream)\(extra)}"
    }

    static func post(
        _ server: RunningServer, _ json: String, headers: [String: String] = [:]
    ) async throws -> TestHTTPClient.Result {
        try await TestHTTPClient.post(port: server.port, path: "/v1/responses", json: json, headers: headers)
    }

    /// The events and their JSON; checks every event's `type` repeats its name and that `sequence_number`
    /// counts from 0.
    static func stream(_ response: TestHTTPClient.Result) throws -> [(name: String, json: [String: Any])] {
        #expect(response.status == 200, "\(response.text)")
        #expect(response.headers["content-type"] == "text/event-stream")
        let events = try AnthropicMessagesTests.events(response.text).map { ($0.name, try eventJSON($0.data)) }
        for (index, event) in events.enumerated() {
            #expect(event.1["type"] as? String == event.0)
            #expect(event.1["sequence_number"] as? Int == index, "\(event.0)")
        }
        return events
    }

    static func deltas(_ events: [(name: String, json: [String: Any])], _ type: String) -> [String] {
        events.filter { $0.name == type }.compactMap { $0.json["delta"] as? String }
    }

    @Test func reasoningThenTextIsTwoItemsAndAnIncompleteResponseAtTheLimit() async throws {
        try await withServer(Self.configuration(reasoningTokens: 2)) { server in
            let events = try Self.stream(try await Self.post(server, Self.body(maxTokens: 5, stream: true)))
            #expect(
                events.map(\.name) == [
                    "response.created", "response.in_progress",
                    "response.output_item.added", "response.reasoning_text.delta", "response.reasoning_text.delta",
                    "response.reasoning_text.done", "response.output_item.done",
                    "response.output_item.added", "response.content_part.added",
                    "response.output_text.delta", "response.output_text.delta", "response.output_text.delta",
                    "response.output_text.done", "response.content_part.done", "response.output_item.done",
                    "response.incomplete",
                ])
            #expect(Self.deltas(events, "response.reasoning_text.delta") == ["lorem", " ipsum"])
            #expect(Self.deltas(events, "response.output_text.delta") == ["dolor", " sit", " amet"])
            let created = try #require(events[0].json["response"] as? [String: Any])
            let id = try #require(created["id"] as? String)
            #expect(id.hasPrefix("resp_") && created["status"] as? String == "in_progress")
            #expect(created["output"] as? [Any] != nil && created["usage"] is NSNull)
            let final = try #require(events.last?.json["response"] as? [String: Any])
            #expect(final["id"] as? String == id && final["status"] as? String == "incomplete")
            #expect((final["incomplete_details"] as? [String: Any])?["reason"] as? String == "max_output_tokens")
            let usage = try #require(final["usage"] as? [String: Any])
            #expect(usage["output_tokens"] as? Int == 5 && usage["input_tokens"] as? Int == 4)
            #expect((usage["output_tokens_details"] as? [String: Any])?["reasoning_tokens"] as? Int == 2)
            let output = try #require(final["output"] as? [[String: Any]])
            #expect(output.map { $0["type"] as? String } == ["reasoning", "message"])
            let part = try #require((output[1]["content"] as? [[String: Any]])?.first)
            #expect(part["type"] as? String == "output_text" && part["text"] as? String == "dolor sit amet")
            // Within the engine's own length the answer is complete.
            let whole = try Self.stream(try await Self.post(server, Self.body(maxTokens: nil, stream: true)))
            #expect(whole.last?.name == "response.completed")
        }
    }

    @Test func aFunctionCallIsOneEventPerToken() async throws {
        try await withServer(Self.configuration(toolCalls: true)) { server in
            for maxTokens in [1, 2, 5, 9] {
                let events = try Self.stream(
                    try await Self.post(server, Self.body(maxTokens: maxTokens, stream: true)))
                let added = events.filter { $0.name == "response.output_item.added" }
                #expect(added.count == 1, "only the call, no message item")
                let item = try #require(added.first?.json["item"] as? [String: Any])
                #expect(item["type"] as? String == "function_call" && item["name"] as? String == "get_weather")
                #expect((item["call_id"] as? String)?.hasPrefix("call_") == true)
                let fragments = Self.deltas(events, "response.function_call_arguments.delta")
                // the call's addition is its first token, then one fragment per further token
                #expect(fragments.count == maxTokens - 1, "max_output_tokens \(maxTokens)")
                let done = try #require(events.first { $0.name == "response.function_call_arguments.done" })
                let arguments = try #require(done.json["arguments"] as? String)
                #expect(maxTokens == 1 || arguments == fragments.joined())
                #expect(try JSONSerialization.jsonObject(with: Data(arguments.utf8)) is [String: Any], "\(arguments)")
                let final = try #require(events.last?.json["response"] as? [String: Any])
                #expect((final["usage"] as? [String: Any])?["output_tokens"] as? Int == maxTokens)
            }
        }
    }

    @Test func aNonStreamedResponseIsTheResponseObject() async throws {
        try await withServer(Self.configuration(reasoningTokens: 1)) { server in
            let response = try await Self.post(
                server,
                "{\"model\":\"synthetic\",\"instructions\":\"Be brief.\",\"input\":[{\"role\":\"user\",\"content\":"
                    + "[{\"type\":\"input_text\",\"text\":\"hi\"}]}],\"max_output_tokens\":3,\"store\":false}")
            #expect(response.status == 200 && response.headers["content-type"] == "application/json")
            let object = try response.json()
            #expect(object["object"] as? String == "response" && object["status"] as? String == "incomplete")
            let output = try #require(object["output"] as? [[String: Any]])
            #expect(output.map { $0["type"] as? String } == ["reasoning", "message"])
            let reasoning = try #require((output[0]["content"] as? [[String: Any]])?.first)
            #expect(reasoning["text"] as? String == "lorem")
            let text = try #require((output[1]["content"] as? [[String: Any]])?.first)
            #expect(text["text"] as? String == "ipsum dolor")
            let usage = try #require(object["usage"] as? [String: Any])
            #expect(usage["output_tokens"] as? Int == 3)
            #expect((usage["output_tokens_details"] as? [String: Any])?["reasoning_tokens"] as? Int == 1)
        }
    }

    @Test func badRequestsGetOpenAIErrors() async throws {
        try await withServer(Self.configuration()) { server in
            let cases: [(String, String)] = [
                (Self.body(maxTokens: 0, stream: true), "max_output_tokens"),
                (Self.body(stream: true, extra: ",\"temperature\":2.5"), "temperature"),
                (Self.body(stream: true, extra: ",\"top_p\":-1"), "top_p"),
                (Self.body(stream: true, extra: ",\"reasoning\":{\"effort\":\"extreme\"}"), "reasoning.effort"),
                (Self.body(stream: true, extra: ",\"tool_choice\":\"sometimes\""), "tool_choice"),
                (
                    Self.body(
                        stream: true,
                        extra:
                            ",\"tools\":[{\"type\":\"function\",\"name\":\"f\"}],\"tool_choice\":{\"type\":\"function\",\"name\":\"g\"}"
                    ),
                    "tool_choice"
                ),
                ("{\"model\":\"synthetic\",\"input\":[{\"role\":\"tool\",\"content\":\"x\"}]}", "input[0].role"),
                ("{\"model\":\"synthetic\",\"input\":[],\"instructions\":\"x\"}", "input"),
                ("{\"model\":\"synthetic\"}", "input"),
            ]
            for (json, param) in cases {
                let response = try await Self.post(server, json)
                #expect(response.status == 400, "\(json): \(response.text)")
                let error = try #require(try response.json()["error"] as? [String: Any])
                #expect(error["type"] as? String == "invalid_request_error")
                #expect(error["param"] as? String == param, "\(json): \(response.text)")
            }
            let unknownModel = try await Self.post(server, "{\"model\":\"other\",\"input\":\"hi\"}")
            #expect(unknownModel.status == 404)
            // faults that alter chat chunks or [DONE] do not apply to these streams
            for fault in ["no_done", "empty_choices", "multi_token_events", "malformed_json"] {
                let refused = try await Self.post(server, Self.body(stream: true), headers: ["x-llmperf-fault": fault])
                #expect(refused.status == 400, "\(fault)")
                #expect(refused.text.contains("does not apply to /v1/responses"))
            }
            let limited = try await Self.post(server, Self.body(stream: true), headers: ["x-llmperf-fault": "http_429"])
            #expect(limited.status == 429 && limited.headers["retry-after"] == "1")
            let crlf = try await Self.post(
                server, Self.body(maxTokens: nil, stream: true), headers: ["x-llmperf-fault": "crlf"])
            #expect(crlf.status == 200 && crlf.text.contains("\r\n\r\n") && crlf.text.contains("response.completed"))
        }
    }

    @Test func overloadedMidStreamIsAnErrorEventThenTheEnd() async throws {
        let faults = FaultConfiguration(selection: .every(.overloadedMidStream), after: 2)
        let configuration = ServerConfiguration(
            port: 0,
            engine: ServerConfiguration.synthetic(ttftMs: 0, itlMs: 0, tokens: 16, contextLength: 4096),
            faults: faults)
        try await withServer(configuration) { server in
            let events = try Self.stream(try await Self.post(server, Self.body(maxTokens: 6, stream: true)))
            // two deltas, then the error event closes the stream: no closing events, no response.completed
            #expect(Self.deltas(events, "response.output_text.delta").count == 2)
            let last = try #require(events.last)
            #expect(last.name == "error")
            #expect(last.json["code"] as? String == "server_is_overloaded" && last.json["message"] as? String != nil)
            #expect(!events.contains { $0.name.hasPrefix("response.completed") || $0.name.hasSuffix(".done") })
            let whole = try await Self.post(server, Self.body(stream: false))
            #expect(whole.status == 503)
            #expect((try whole.json()["error"] as? [String: Any])?["code"] as? String == "server_is_overloaded")
        }
    }

    @Test func anAPIKeyIsABearerToken() async throws {
        try await withServer(Self.configuration(apiKey: "sekrit-1")) { server in
            for headers in [[:], ["Authorization": "Bearer wrong"], ["x-api-key": "sekrit-1"]] {
                let refused = try await Self.post(server, Self.body(stream: true), headers: headers)
                #expect(refused.status == 401, "\(headers)")
                #expect((try refused.json()["error"] as? [String: Any])?["code"] as? String == "invalid_api_key")
            }
            let allowed = try await Self.post(
                server, Self.body(stream: true), headers: ["Authorization": "Bearer sekrit-1"])
            #expect(allowed.status == 200)
        }
    }

    /// Every delta, and a function call's addition, is a content chunk in the trace, as the client counts them.
    @Test func theTraceCountsEveryDeltaAndACallsAddition() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("trace.tsv").path
        try await withServer(Self.configuration(reasoningTokens: 2, toolCalls: true, tracePath: path)) { server in
            _ = try await Self.post(server, Self.body(maxTokens: 5, stream: true), headers: ["x-request-id": "r1"])
        }
        let rows = try FaultModeTests.traceRows(path, requestID: "r1")
        let kinds = rows.map(\.kind).filter { !$0.contains(":") }
        // role (created), 2 reasoning deltas, the call's addition, 2 fragments, done (incomplete)
        #expect(kinds == ["accept", "arrival", "role", "first_token", "token", "token", "token", "token", "done"])
    }
}
