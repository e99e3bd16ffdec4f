import Foundation
import HTTPTypes
import InferenceEngine
import Testing

@testable import InferenceServer

/// Ollama's `POST /api/chat` and `POST /api/generate` over a real loopback server: the exact NDJSON lines
/// and bodies a client sees (shapes from Ollama's API reference, github.com/ollama/ollama docs/api.md),
/// thinking and tool calls from the synthetic engine, counts and measured durations, errors as
/// `{"error": …}`, the faults that apply, and the trace.
@Suite("Ollama API")
struct OllamaAPITests {
    static func configuration(
        reasoningTokens: Int = 0, toolCalls: Bool = false, ttftMs: Double = 0, itlMs: Double = 0,
        tracePath: String? = nil, faults: FaultConfiguration? = nil
    ) -> ServerConfiguration {
        ServerConfiguration(
            port: 0,
            engine: ServerConfiguration.synthetic(
                ttftMs: ttftMs, itlMs: itlMs, tokens: 16, contextLength: 4096, reasoningTokens: reasoningTokens,
                toolCalls: toolCalls),
            tracePath: tracePath, faults: faults)
    }

    static func chat(numPredict: Int? = 3, stream: Bool? = true, model: String = "synthetic", extra: String = "")
        -> String
    {
        var body = "{\"model\":\"\(model)\",\"messages\":[{\"role\":\"user\",\"content\":\"Say something\"}]"
        if let stream { body += ",\"stream\":\(stream)" }
        if let numPredict { body += ",\"options\":{\"num_predict\":\(numPredict)}" }
        return body + extra + "}"
    }

    static func generate(numPredict: Int = 3, stream: Bool = true, extra: String = "") -> String {
        "{\"model\":\"synthetic\",\"prompt\":\"Say something\",\"stream\":\(stream),"
            + "\"options\":{\"num_predict\":\(numPredict)}\(extra)}"
    }

    static func post(
        _ server: RunningServer, _ json: String, path: String = "/api/chat", headers: [String: String] = [:]
    ) async throws -> TestHTTPClient.Result {
        try await TestHTTPClient.post(port: server.port, path: path, json: json, headers: headers)
    }

    /// The lines of an NDJSON body, each ending with "\n", with `created_at` and the durations (which differ
    /// from run to run) replaced by `T` and `N`.
    static func lines(_ response: TestHTTPClient.Result) throws -> [String] {
        let text = response.text
        #expect(text.hasSuffix("\n"), "\(text)")
        return text.split(separator: "\n").map { normalized(String($0)) }
    }

    static func normalized(_ line: String) -> String {
        var out = line.replacingOccurrences(
            of: #""created_at":"[0-9T:.\-Z+]+""#, with: #""created_at":"T""#, options: .regularExpression)
        out = out.replacingOccurrences(
            of: #""(total|prompt_eval|eval)_duration":[0-9]+"#, with: #""$1_duration":N"#, options: .regularExpression)
        return out
    }

    static let head = #"{"model":"synthetic","created_at":"T","#

    static func content(_ text: String) -> String {
        head + #""message":{"role":"assistant","content":"# + JSONText.quoted(text) + #"},"done":false}"#
    }

    static func thinking(_ text: String) -> String {
        head + #""message":{"role":"assistant","content":"","thinking":"# + JSONText.quoted(text)
            + #"},"done":false}"#
    }

    static func done(_ reason: String, prompt: Int = 4, eval: Int, chat: Bool = true) -> String {
        head + (chat ? #""message":{"role":"assistant","content":""},"# : #""response":"","#)
            + #""done":true,"done_reason":"\#(reason)","total_duration":N,"load_duration":0,"#
            + #""prompt_eval_count":\#(prompt),"prompt_eval_duration":N,"eval_count":\#(eval),"eval_duration":N}"#
    }

    /// `{"error": …}` and nothing else, as JSON; returns the message.
    static func errorMessage(_ response: TestHTTPClient.Result) throws -> String {
        let object = try response.json()
        #expect(Set(object.keys) == ["error"], "\(response.text)")
        #expect(response.headers["content-type"] == "application/json")
        return try #require(object["error"] as? String)
    }

    // MARK: healthy answers

    @Test func chatStreamsOneLinePerTokenThenTheCounts() async throws {
        try await withServer(Self.configuration()) { server in
            let response = try await Self.post(server, Self.chat(numPredict: 3))
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "application/x-ndjson")
            #expect(
                try Self.lines(response)
                    == ["lorem", " ipsum", " dolor"].map(Self.content) + [Self.done("length", eval: 3)])
            // Ollama streams unless told not to.
            let byDefault = try await Self.post(server, Self.chat(numPredict: 2, stream: nil))
            #expect(
                try Self.lines(byDefault) == ["lorem", " ipsum"].map(Self.content) + [Self.done("length", eval: 2)])
        }
    }

    @Test func nonStreamedAnswersAreOneObject() async throws {
        try await withServer(Self.configuration()) { server in
            let chat = try await Self.post(server, Self.chat(numPredict: 3, stream: false))
            #expect(chat.status == 200)
            #expect(chat.headers["content-type"] == "application/json; charset=utf-8")
            #expect(
                Self.normalized(chat.text)
                    == Self.head + #""message":{"role":"assistant","content":"lorem ipsum dolor"},"#
                    + #""done":true,"done_reason":"length","total_duration":N,"load_duration":0,"#
                    + #""prompt_eval_count":4,"prompt_eval_duration":N,"eval_count":3,"eval_duration":N}"#)
            let generate = try await Self.post(
                server, Self.generate(numPredict: 2, stream: false), path: "/api/generate")
            let completions = try await TestHTTPClient.post(
                port: server.port, path: "/v1/completions",
                json: #"{"model":"synthetic","prompt":"Say something","max_tokens":2}"#)
            let promptTokens = try #require(
                (try completions.json()["usage"] as? [String: Any])?["prompt_tokens"] as? Int)
            #expect(
                Self.normalized(generate.text)
                    == Self.head + #""response":"lorem ipsum","#
                    + #""done":true,"done_reason":"length","total_duration":N,"load_duration":0,"#
                    + #""prompt_eval_count":\#(promptTokens),"prompt_eval_duration":N,"eval_count":2,"eval_duration":N}"#
            )
        }
    }

    @Test func generateStreamsResponseLines() async throws {
        try await withServer(Self.configuration(reasoningTokens: 2)) { server in
            let response = try await Self.post(server, Self.generate(numPredict: 3), path: "/api/generate")
            #expect(response.headers["content-type"] == "application/x-ndjson")
            let lines = try Self.lines(response)
            let last = try JSONSerialization.jsonObject(with: Data(response.text.split(separator: "\n").last!.utf8))
            let prompt = try #require((last as? [String: Any])?["prompt_eval_count"] as? Int)
            // Plain text: /api/generate takes no reasoning from the engine.
            var expected: [String] = []
            for word in ["lorem", " ipsum", " dolor"] {
                expected.append(Self.head + #""response":"# + JSONText.quoted(word) + #","done":false}"#)
            }
            expected.append(Self.done("length", prompt: prompt, eval: 3, chat: false))
            #expect(lines == expected)
        }
    }

    @Test func reasoningTokensAreThinkingLinesBeforeTheText() async throws {
        try await withServer(Self.configuration(reasoningTokens: 2)) { server in
            let streamed = try await Self.post(server, Self.chat(numPredict: 4, extra: #","think":true"#))
            #expect(
                try Self.lines(streamed)
                    == [Self.thinking("lorem"), Self.thinking(" ipsum"), Self.content("dolor"), Self.content(" sit")]
                    + [Self.done("length", eval: 4)])
            let body = try await Self.post(server, Self.chat(numPredict: 4, stream: false, extra: #","think":"high""#))
            let message = try #require(try body.json()["message"] as? [String: Any])
            #expect(message["thinking"] as? String == "lorem ipsum" && message["content"] as? String == "dolor sit")
            #expect(try body.json()["eval_count"] as? Int == 4)
        }
    }

    @Test func aToolCallIsOneLineWithItsArgumentsAsAnObject() async throws {
        try await withServer(Self.configuration(reasoningTokens: 1, toolCalls: true)) { server in
            let streamed = try await Self.post(server, Self.chat(numPredict: 6))
            let call =
                Self.head + #""message":{"role":"assistant","content":"","tool_calls":[{"function":"#
                + #"{"name":"get_weather","arguments":{"city": "sit amet"}}}]},"done":false}"#
            // One thinking token, then the call (5 tokens) whole; eval_count counts the call's line as one.
            #expect(try Self.lines(streamed) == [Self.thinking("lorem"), call, Self.done("stop", eval: 2)])
            let body = try await Self.post(server, Self.chat(numPredict: 6, stream: false)).json()
            let message = try #require(body["message"] as? [String: Any])
            let calls = try #require(message["tool_calls"] as? [[String: Any]])
            let function = try #require(calls.first?["function"] as? [String: Any])
            #expect(calls.count == 1 && function["name"] as? String == "get_weather")
            #expect((function["arguments"] as? [String: Any])?["city"] as? String == "sit amet")
            #expect(body["eval_count"] as? Int == 2 && body["done_reason"] as? String == "stop")
        }
    }

    @Test func durationsAreMeasured() async throws {
        try await withServer(Self.configuration(ttftMs: 30, itlMs: 20)) { server in
            let body = try await Self.post(server, Self.chat(numPredict: 4, stream: false)).json()
            let total = try #require(body["total_duration"] as? Int)
            let promptEval = try #require(body["prompt_eval_duration"] as? Int)
            let eval = try #require(body["eval_duration"] as? Int)
            #expect(promptEval >= 30_000_000, "\(promptEval)")
            // The last token is due 3 itl after the first, and the answer ends after it; how the time splits
            // at the first token depends on when it was handed over (on a loaded machine, all at once).
            #expect(total >= 30_000_000 + 3 * 20_000_000, "\(total)")
            #expect(total == promptEval + eval && eval >= 0)
        }
    }

    // MARK: errors and faults

    @Test func badRequestsGetOllamaErrorsWithTheirStatus() async throws {
        try await withServer(Self.configuration()) { server in
            let cases: [(String, String, Int, String)] = [
                ("/api/chat", Self.chat(model: "llama3"), 404, "The model 'llama3' does not exist"),
                ("/api/chat", "{", 400, "could not parse the JSON body"),
                ("/api/chat", #"{"model":"synthetic"}"#, 400, "messages: required on /api/chat."),
                ("/api/chat", #"{"model":"synthetic","messages":[]}"#, 400, "at least one message"),
                (
                    "/api/chat", #"{"model":"synthetic","messages":[{"role":"robot","content":"x"}]}"#, 400,
                    "unexpected role 'robot'"
                ),
                ("/api/chat", Self.chat(numPredict: 0), 400, "options.num_predict: expected a count >= 1"),
                ("/api/chat", Self.chat(extra: #","think":"max""#), 400, "think: expected true, false, or one of"),
                ("/api/chat", Self.chat(extra: #","think":3"#), 400, "Invalid type for 'think'"),
                ("/api/generate", #"{"model":"synthetic"}"#, 400, "prompt: required on /api/generate."),
                (
                    "/api/generate", Self.generate(extra: #","tools":[{"type":"function"}]"#), 400,
                    "tools: /api/generate takes no tools"
                ),
            ]
            for (path, json, status, message) in cases {
                let response = try await Self.post(server, json, path: path)
                #expect(response.status == status, "\(json): \(response.text)")
                let text = try Self.errorMessage(response)
                #expect(text.contains(message), "\(json): \(text)")
            }
            let get = try await TestHTTPClient.send(port: server.port, path: "/api/chat")
            #expect(get.status == 405 && get.headers["allow"] == "POST")
            #expect(try Self.errorMessage(get).contains("not allowed"))
            // -1 (no limit) leaves the length to the server
            let unlimited = try await Self.post(server, Self.chat(numPredict: -1, stream: false))
            let evalCount = try unlimited.json()["eval_count"] as? Int
            #expect(unlimited.status == 200 && evalCount == 16)
        }
    }

    static func faults(after: Int = 2) -> FaultConfiguration {
        FaultConfiguration(selection: .every(.none), after: after, stall: .milliseconds(200), drip: .zero)
    }

    @Test func faultsThatApplyAndTheOnesRefused() async throws {
        try await withServer(Self.configuration(faults: Self.faults())) { server in
            let limited = try await Self.post(server, Self.chat(), headers: ["x-llmperf-fault": "http_429"])
            #expect(limited.status == 429 && limited.headers["retry-after"] == "1")
            #expect(try Self.errorMessage(limited).contains("Rate limit"))
            let failed = try await Self.post(
                server, Self.generate(stream: false), path: "/api/generate", headers: ["x-llmperf-fault": "http_500"])
            #expect(failed.status == 500)
            _ = try Self.errorMessage(failed)
            let noDone = try await Self.post(server, Self.chat(), headers: ["x-llmperf-fault": "no_done"])
            #expect(try Self.lines(noDone) == ["lorem", " ipsum", " dolor"].map(Self.content))
            let malformed = try await Self.post(server, Self.chat(), headers: ["x-llmperf-fault": "malformed_json"])
            #expect(malformed.status == 400)
            let message = try Self.errorMessage(malformed)
            #expect(message.contains("does not apply to /api/chat"))
            #expect(message.contains("no_done") && !message.contains("empty_choices") && !message.contains("crlf"))
        }
    }

    @Test func resetMidStreamResetsAfterTheConfiguredLines() async throws {
        try await withServer(Self.configuration(faults: Self.faults(after: 2))) { server in
            let exchange = try await RawSocketClient.exchange(
                port: server.port,
                request: RawSocketClient.post(
                    "/api/chat", json: Self.chat(numPredict: 6), headers: ["x-llmperf-fault": "reset_mid_stream"]))
            #expect(exchange.ending == .reset)
            let response = try #require(exchange.response)
            #expect(response.status == 200 && response.chunks.complete == false)
            let lines = String(decoding: response.body, as: UTF8.self).split(separator: "\n").map {
                Self.normalized(String($0))
            }
            #expect(lines == ["lorem", " ipsum"].map(Self.content))
        }
    }

    // MARK: trace

    @Test func traceRecordsEveryLineAtTheEnginePace() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("trace.tsv").path
        try await withServer(Self.configuration(ttftMs: 40, itlMs: 100, tracePath: path)) { server in
            let response = try await Self.post(server, Self.chat(numPredict: 4), headers: ["x-request-id": "o1"])
            #expect(try Self.lines(response).count == 5)
            #expect(response.headers["x-request-id"] == "o1")
        }
        let rows = try FaultModeTests.traceRows(path, requestID: "o1")
        #expect(
            rows.map(\.kind) == [
                "accept", "arrival", "fault:none", rows[3].kind, "first_token", "token", "token", "token", "finish",
                "done",
            ])
        #expect(rows.filter { $0.kind == "first_token" || $0.kind == "token" }.map(\.index) == [0, 1, 2, 3])
        #expect(rows.suffix(2).map(\.index) == [4, 4])
        let arrival = rows[1].nanos
        let content = rows.filter { $0.kind == "first_token" || $0.kind == "token" }.map(\.nanos)
        for (k, sent) in content.enumerated() { #expect(sent >= arrival + 40_000_000 + UInt64(k) * 100_000_000) }
        #expect(rows.last!.nanos >= content.last!)
    }
}
