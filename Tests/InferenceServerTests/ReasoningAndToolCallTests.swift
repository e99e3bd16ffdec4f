import Foundation
import Testing

@testable import InferenceServer

/// `--reasoning-tokens` and `--tool-calls` on the synthetic engine, over a real loopback server: the events
/// and bodies a client sees, usage, the trace, and the option checks.
@Suite("Reasoning and tool calls")
struct ReasoningAndToolCallTests {
    static func configuration(
        reasoningTokens: Int = 0, toolCalls: Bool = false, ttftMs: Double = 0, tracePath: String? = nil
    ) -> ServerConfiguration {
        ServerConfiguration(
            port: 0,
            engine: ServerConfiguration.synthetic(
                ttftMs: ttftMs, tokens: 16, contextLength: 4096, reasoningTokens: reasoningTokens, toolCalls: toolCalls),
            tracePath: tracePath)
    }

    static func chat(
        _ server: RunningServer, maxTokens: Int?, stream: Bool, includeUsage: Bool? = nil,
        headers: [String: String] = [:], extra: String = ""
    ) async throws -> TestHTTPClient.Result {
        let response = try await TestHTTPClient.post(
            port: server.port, path: "/v1/chat/completions",
            json: chatBody(maxTokens: maxTokens, stream: stream, includeUsage: includeUsage, extra: extra),
            headers: headers)
        #expect(response.status == 200)
        return response
    }

    /// `choices[0]` of an event or body.
    static func choice(_ object: [String: Any]) throws -> [String: Any] {
        try #require((object["choices"] as? [[String: Any]])?.first)
    }

    /// The `delta` of every event of a stream but `[DONE]` and the usage event.
    static func deltas(_ events: [String]) throws -> [[String: Any]] {
        try events.filter { $0 != "[DONE]" && !$0.contains(#""choices":[]"#) }.map {
            try #require(try choice(eventJSON($0))["delta"] as? [String: Any])
        }
    }

    static func finishReasons(_ events: [String]) throws -> [String] {
        try events.filter { $0 != "[DONE]" && !$0.contains(#""choices":[]"#) }.compactMap {
            try choice(eventJSON($0))["finish_reason"] as? String
        }
    }

    static func usage(_ events: [String]) throws -> [String: Any] {
        let event = try #require(events.first { $0.contains(#""choices":[]"#) })
        return try #require(try eventJSON(event)["usage"] as? [String: Any])
    }

    static func reasoningTokens(_ usage: [String: Any]) -> Int? {
        (usage["completion_tokens_details"] as? [String: Any])?["reasoning_tokens"] as? Int
    }

    /// The tool call of a delta: `tool_calls[0]` (and there is exactly one).
    static func toolCall(_ delta: [String: Any]) throws -> [String: Any] {
        let calls = try #require(delta["tool_calls"] as? [[String: Any]])
        #expect(calls.count == 1)
        return try #require(calls.first)
    }

    // MARK: reasoning

    @Test func streamedReasoningComesFirstOneTokenPerEvent() async throws {
        try await withServer(Self.configuration(reasoningTokens: 3)) { server in
            let events = try await Self.chat(server, maxTokens: 5, stream: true, includeUsage: true).events
            // role, 3 reasoning, 2 content, finish, usage, [DONE]
            #expect(events.count == 9)
            let deltas = try Self.deltas(events)
            #expect(deltas.count == 7)
            #expect(deltas[0]["role"] as? String == "assistant" && deltas[0]["content"] as? String == "")
            for delta in deltas[1...3] { #expect(Set(delta.keys) == ["reasoning_content"]) }
            #expect(deltas[1...3].map { $0["reasoning_content"] as? String } == ["lorem", " ipsum", " dolor"])
            for delta in deltas[4...5] { #expect(Set(delta.keys) == ["content"]) }
            #expect(deltas[4...5].map { $0["content"] as? String } == ["sit", " amet"])
            #expect(deltas[6].isEmpty)
            #expect(try Self.finishReasons(events) == ["length"])
            let usage = try Self.usage(events)
            #expect(usage["completion_tokens"] as? Int == 5)
            #expect(Self.reasoningTokens(usage) == 3)
            #expect(events.last == "[DONE]")
            // the raw shape of one reasoning event
            #expect(
                events[1].contains(
                    #""choices":[{"index":0,"delta":{"reasoning_content":"lorem"},"logprobs":null,"finish_reason":null}]}"#
                ))
        }
    }

    @Test func nonStreamedReasoningIsItsOwnField() async throws {
        try await withServer(Self.configuration(reasoningTokens: 3)) { server in
            let body = try await Self.chat(server, maxTokens: 5, stream: false).json()
            let choice = try Self.choice(body)
            let message = try #require(choice["message"] as? [String: Any])
            #expect(message["role"] as? String == "assistant")
            #expect(message["reasoning_content"] as? String == "lorem ipsum dolor")
            #expect(message["content"] as? String == "sit amet")
            #expect(message["tool_calls"] == nil)
            #expect(choice["finish_reason"] as? String == "length")
            let usage = try #require(body["usage"] as? [String: Any])
            #expect(usage["completion_tokens"] as? Int == 5)
            #expect(Self.reasoningTokens(usage) == 3)
        }
    }

    @Test func maxTokensCountsReasoningAndMayHoldNothingElse() async throws {
        try await withServer(Self.configuration(reasoningTokens: 16)) { server in
            // 32 tokens: 16 reasoning, 16 answer
            let split = try Self.deltas(try await Self.chat(server, maxTokens: 32, stream: true).events)
            #expect(split.filter { $0["reasoning_content"] != nil }.count == 16)
            #expect(split.filter { ($0["content"] as? String).map { !$0.isEmpty } == true }.count == 16)
            // max_tokens ≤ N: every token is reasoning
            for maxTokens in [4, 16] {
                let events = try await Self.chat(server, maxTokens: maxTokens, stream: true, includeUsage: true).events
                let deltas = try Self.deltas(events)
                #expect(deltas.count == maxTokens + 2)  // role, tokens, finish
                #expect(deltas.dropFirst().dropLast().allSatisfy { Set($0.keys) == ["reasoning_content"] })
                let usage = try Self.usage(events)
                #expect(usage["completion_tokens"] as? Int == maxTokens)
                #expect(Self.reasoningTokens(usage) == maxTokens)
                let body = try await Self.chat(server, maxTokens: maxTokens, stream: false).json()
                let message = try #require(try Self.choice(body)["message"] as? [String: Any])
                #expect(message["content"] is NSNull)
                #expect((message["reasoning_content"] as? String)?.split(separator: " ").count == maxTokens)
                #expect(Self.reasoningTokens(try #require(body["usage"] as? [String: Any])) == maxTokens)
            }
        }
    }

    @Test func withoutTheSwitchesUsageHasNoDetailsAndNoReasoningField() async throws {
        try await withServer(Self.configuration()) { server in
            let events = try await Self.chat(server, maxTokens: 3, stream: true, includeUsage: true).events
            #expect(!events.contains { $0.contains("reasoning") || $0.contains("tool_calls") })
            #expect(Self.reasoningTokens(try Self.usage(events)) == nil)
            let body = try await Self.chat(server, maxTokens: 3, stream: false).text
            #expect(!body.contains("reasoning") && !body.contains("tool_calls"))
        }
    }

    @Test func textCompletionsStayPlainText() async throws {
        try await withServer(Self.configuration(reasoningTokens: 2, toolCalls: true)) { server in
            let streamed = try await TestHTTPClient.post(
                port: server.port, path: "/v1/completions",
                json:
                    #"{"model":"synthetic","prompt":"one two","max_tokens":4,"stream":true,"stream_options":{"include_usage":true}}"#
            )
            let events = streamed.events
            #expect(events.count == 7)
            var text = ""
            for event in events[0..<4] {
                text += try #require(try Self.choice(eventJSON(event))["text"] as? String)
            }
            #expect(text == "lorem ipsum dolor sit")
            #expect(try Self.choice(eventJSON(events[4]))["finish_reason"] as? String == "length")
            #expect(!events.contains { $0.contains("reasoning") || $0.contains("tool_calls") })
            let plain = try await TestHTTPClient.post(
                port: server.port, path: "/v1/completions",
                json: #"{"model":"synthetic","prompt":"one two","max_tokens":4}"#)
            #expect(try Self.choice(plain.json())["text"] as? String == "lorem ipsum dolor sit")
            #expect(try Self.choice(plain.json())["finish_reason"] as? String == "length")
            #expect(!plain.text.contains("reasoning") && !plain.text.contains("tool_calls"))
        }
    }

    // MARK: tool calls

    @Test func aStreamedToolCallOpensThenStreamsOneArgumentsFragmentPerToken() async throws {
        try await withServer(Self.configuration(toolCalls: true)) { server in
            let events = try await Self.chat(server, maxTokens: 6, stream: true, includeUsage: true).events
            // opening (the first token), 5 fragments, finish, usage, [DONE]: one event per token
            #expect(events.count == 9)
            let deltas = try Self.deltas(events)
            let opening = deltas[0]
            #expect(Set(opening.keys) == ["role", "content", "tool_calls"])
            #expect(opening["role"] as? String == "assistant")
            #expect(opening["content"] is NSNull)
            let call = try Self.toolCall(opening)
            #expect(call["index"] as? Int == 0)
            let id = try #require(call["id"] as? String)
            #expect(id.hasPrefix("call_") && id.count == 21)
            #expect(call["type"] as? String == "function")
            #expect(call["function"] as? [String: String] == ["name": "get_weather", "arguments": ""])
            var arguments = ""
            for delta in deltas[1...5] {
                #expect(Set(delta.keys) == ["tool_calls"])
                let fragment = try Self.toolCall(delta)
                #expect(Set(fragment.keys) == ["index", "function"])
                #expect(fragment["index"] as? Int == 0)
                let function = try #require(fragment["function"] as? [String: Any])
                #expect(Set(function.keys) == ["arguments"])
                arguments += try #require(function["arguments"] as? String)
            }
            let parsed = try JSONSerialization.jsonObject(with: Data(arguments.utf8)) as? [String: String]
            #expect(parsed == ["city": "dolor sit amet"])
            #expect(deltas[6].isEmpty)
            #expect(try Self.finishReasons(events) == ["tool_calls"])
            #expect(try Self.usage(events)["completion_tokens"] as? Int == 6)
            #expect(Self.reasoningTokens(try Self.usage(events)) == nil)
            // the same request, the same id
            let again = try Self.deltas(try await Self.chat(server, maxTokens: 6, stream: true).events)
            #expect(try Self.toolCall(again[0])["id"] as? String == id)
        }
    }

    @Test func everyLengthGivesValidJSONArgumentsWithOneEventPerToken() async throws {
        try await withServer(Self.configuration(toolCalls: true)) { server in
            for maxTokens in [1, 2, 3, 4, 17] as [Int?] + [nil] {
                let events = try await Self.chat(server, maxTokens: maxTokens, stream: true, includeUsage: true).events
                let deltas = try Self.deltas(events)
                // the opening's arguments (empty, or the whole `{}` of a one-token call), then the fragments
                let fragments = try deltas.dropLast().map {
                    try #require((try Self.toolCall($0)["function"] as? [String: Any])?["arguments"] as? String)
                }
                let tokens = try #require(try Self.usage(events)["completion_tokens"] as? Int)
                #expect(tokens == maxTokens ?? 16)
                #expect(fragments.count == tokens)
                let object = try JSONSerialization.jsonObject(with: Data(fragments.joined().utf8))
                #expect(object is [String: Any], "max_tokens \(String(describing: maxTokens)): \(fragments.joined())")
                #expect(try Self.finishReasons(events) == ["tool_calls"])
            }
        }
    }

    @Test func aNonStreamedToolCallIsTheWholeMessage() async throws {
        try await withServer(Self.configuration(toolCalls: true)) { server in
            let body = try await Self.chat(server, maxTokens: 5, stream: false).json()
            let choice = try Self.choice(body)
            #expect(choice["finish_reason"] as? String == "tool_calls")
            let message = try #require(choice["message"] as? [String: Any])
            #expect(Set(message.keys) == ["role", "content", "tool_calls"])
            #expect(message["content"] is NSNull)
            let call = try Self.toolCall(message)
            #expect((call["id"] as? String)?.hasPrefix("call_") == true)
            #expect(call["type"] as? String == "function")
            let function = try #require(call["function"] as? [String: Any])
            #expect(function["name"] as? String == "get_weather")
            let arguments = try #require(function["arguments"] as? String)
            #expect(
                try JSONSerialization.jsonObject(with: Data(arguments.utf8)) as? [String: String] == [
                    "city": "dolor sit"
                ])
            #expect((body["usage"] as? [String: Any])?["completion_tokens"] as? Int == 5)
        }
    }

    @Test func reasoningComesBeforeTheToolCall() async throws {
        try await withServer(Self.configuration(reasoningTokens: 2, toolCalls: true)) { server in
            let events = try await Self.chat(server, maxTokens: 5, stream: true, includeUsage: true).events
            let deltas = try Self.deltas(events)
            // role, 2 reasoning, opening, 2 fragments, finish
            #expect(deltas.count == 7)
            #expect(deltas[0]["role"] as? String == "assistant" && deltas[0]["content"] as? String == "")
            #expect(deltas[1...2].map { $0["reasoning_content"] as? String } == ["lorem", " ipsum"])
            // the role came already: the opening carries only the call
            #expect(Set(deltas[3].keys) == ["tool_calls"])
            #expect(try Self.toolCall(deltas[3])["id"] != nil)
            let arguments = try deltas[4...5].map {
                try #require((try Self.toolCall($0)["function"] as? [String: Any])?["arguments"] as? String)
            }
            #expect(arguments == [#"{"city": ""#, #""}"#])
            #expect(try Self.finishReasons(events) == ["tool_calls"])
            let usage = try Self.usage(events)
            #expect(usage["completion_tokens"] as? Int == 5)
            #expect(Self.reasoningTokens(usage) == 2)

            let body = try await Self.chat(server, maxTokens: 5, stream: false).json()
            let message = try #require(try Self.choice(body)["message"] as? [String: Any])
            #expect(message["reasoning_content"] as? String == "lorem ipsum")
            #expect(message["content"] is NSNull)
            let function = try #require(try Self.toolCall(message)["function"] as? [String: Any])
            #expect(function["arguments"] as? String == #"{"city": ""}"#)
            #expect(Self.reasoningTokens(try #require(body["usage"] as? [String: Any])) == 2)

            // no token left for the call after the reasoning: no call, finish reason length
            let short = try await Self.chat(server, maxTokens: 2, stream: true).events
            #expect(!short.contains { $0.contains("tool_calls") })
            #expect(try Self.finishReasons(short) == ["length"])
        }
    }

    @Test func aCachedToolCallStillOpensWithTheRole() async throws {
        let configuration = ServerConfiguration(
            port: 0,
            engine: .custom {
                ResponseCachingEngine(
                    wrapping: SyntheticEngine(configuration: .init(defaultTokens: 8, toolCalls: true)),
                    defaultTemperatureIsGreedy: true)
            })
        try await withServer(configuration) { server in
            let miss = try await Self.chat(server, maxTokens: 4, stream: true)
            let hit = try await Self.chat(server, maxTokens: 4, stream: true)
            #expect(miss.headers["x-cache"] == "miss" && hit.headers["x-cache"] == "hit")
            let deltas = try Self.deltas(hit.events)
            #expect(deltas[0]["role"] as? String == "assistant" && deltas[0]["tool_calls"] != nil)
            #expect(
                try Self.deltas(miss.events).map { NSDictionary(dictionary: $0) }
                    == deltas.map { NSDictionary(dictionary: $0) })
        }
    }

    @Test func faultsGroupOnlyPiecesOfOneKind() async throws {
        try await withServer(Self.configuration(reasoningTokens: 3)) { server in
            let events = try await Self.chat(
                server, maxTokens: 6, stream: true, includeUsage: true,
                headers: ["x-llmperf-fault": "multi_token_events"]
            ).events
            let deltas = try Self.deltas(events)
            // role, "lorem ipsum dolor" (reasoning, 3 tokens), "sit amet consectetur" (content), finish
            #expect(deltas.count == 4)
            #expect(deltas[1] as? [String: String] == ["reasoning_content": "lorem ipsum dolor"])
            #expect(deltas[2] as? [String: String] == ["content": "sit amet consectetur"])
            #expect(Self.reasoningTokens(try Self.usage(events)) == 3)
        }
        try await withServer(Self.configuration(toolCalls: true)) { server in
            let events = try await Self.chat(
                server, maxTokens: 3, stream: true, headers: ["x-llmperf-fault": "ping_comments"]
            ).events.filter { !$0.hasPrefix("<not data: : ping") }
            let deltas = try Self.deltas(events)
            #expect(deltas.count == 4)  // opening, 2 fragments, finish
            #expect(deltas[0]["role"] as? String == "assistant" && deltas[0]["tool_calls"] != nil)
            #expect(try Self.finishReasons(events) == ["tool_calls"])
        }
    }

    // MARK: trace

    /// Reasoning, the call's opening and its fragments are content chunks in the trace, as a client counts
    /// them; the first is sent no earlier than the TTFT.
    @Test func theTraceRecordsReasoningAndToolCallEventsAsContentChunks() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("trace.tsv").path
        try await withServer(Self.configuration(reasoningTokens: 2, toolCalls: true, ttftMs: 50, tracePath: path)) {
            server in
            _ = try await Self.chat(
                server, maxTokens: 4, stream: true, includeUsage: true, headers: ["x-request-id": "mixed"])
            _ = try await Self.chat(server, maxTokens: 3, stream: false, headers: ["x-request-id": "whole"])
        }
        try await withServer(Self.configuration(toolCalls: true, ttftMs: 50, tracePath: path + ".2")) { server in
            _ = try await Self.chat(server, maxTokens: 3, stream: true, headers: ["x-request-id": "call"])
        }
        func rows(_ path: String, _ id: String) throws -> [[String]] {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").dropFirst()
                .map { $0.split(separator: "\t").map(String.init) }
                .filter { $0[0] == id && !$0[3].contains(":") }
        }
        let mixed = try rows(path, "mixed")
        // role, 2 reasoning, opening, 1 fragment
        #expect(
            mixed.map { $0[3] } == [
                "accept", "arrival", "role", "first_token", "token", "token", "token", "finish", "usage", "done",
            ])
        #expect(mixed.map { $0[1] } == ["-2", "-1", "0", "1", "2", "3", "4", "5", "6", "7"])
        #expect(try rows(path, "whole").map { $0[3] } == ["accept", "arrival", "response"])
        let call = try rows(path + ".2", "call")
        // no role event: the opening carries the role and is the first content chunk
        #expect(call.map { $0[3] } == ["accept", "arrival", "first_token", "token", "token", "finish", "done"])
        for trace in [mixed, call] {
            let arrival = try #require(UInt64(trace[1][2]))
            let first = try #require(trace.first { $0[3] == "first_token" }.flatMap { UInt64($0[2]) })
            #expect(first - arrival >= 50_000_000)
        }
    }

    // MARK: options

    @Test func theOptionsAreCheckedAndReachTheEngine() throws {
        #expect(
            ServeSettingsTests.complaint { $0.reasoningTokens = -1 } == "--reasoning-tokens must be ≥ 0, got -1")
        #expect(
            ServeSettingsTests.complaint {
                $0.engine = .transformer
                $0.reasoningTokens = 8
            }?.hasPrefix("--reasoning-tokens applies only to the synthetic engine") == true)
        #expect(
            ServeSettingsTests.complaint {
                $0.model = "default"
                $0.toolCalls = true
            }?.hasPrefix("--tool-calls applies only to the synthetic engine") == true)
        #expect(ServeSettingsTests.complaint { $0.reasoningTokens = 0 } == nil)
        var settings = ServeSettingsTests.settings()
        settings.reasoningTokens = 16
        settings.toolCalls = true
        try settings.validate()
        guard case .synthetic(let synthetic) = try settings.configuration().engine else {
            Issue.record("expected the synthetic engine")
            return
        }
        #expect(synthetic.reasoningTokens == 16 && synthetic.toolCalls)
    }
}
