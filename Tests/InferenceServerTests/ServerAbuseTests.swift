import Foundation
import InferenceEngine
import InferenceTestSupport
import Testing

@testable import InferenceServer

/// What a client can do wrong, each answered with the right 4xx (or a closed connection), after which the server
/// still serves everyone else; overload beyond `--max-queue` is a 429; 256 concurrent streams all complete.
@Suite("Server under abuse")
struct ServerAbuseTests {
    /// A streamed request that must complete (the server still serves others).
    static func expectHealthy(_ port: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let exchange = try await RawSocketClient.exchange(
            port: port,
            request: RawSocketClient.post(
                "/v1/chat/completions", json: chatBody(maxTokens: 3, stream: true, includeUsage: true)))
        let response = try #require(exchange.response, sourceLocation: sourceLocation)
        #expect(response.status == 200, sourceLocation: sourceLocation)
        #expect(response.dataPayloads.last == Array("[DONE]".utf8), sourceLocation: sourceLocation)
    }

    static func post(_ port: Int, _ body: String) async throws -> RawResponse {
        let exchange = try await RawSocketClient.exchange(
            port: port, request: RawSocketClient.post("/v1/chat/completions", json: body))
        return try #require(exchange.response, "no response to \(body.prefix(80))")
    }

    static func error(_ response: RawResponse) -> (code: String?, param: String?) {
        let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        let error = object?["error"] as? [String: Any]
        return (error?["code"] as? String, error?["param"] as? String)
    }

    static let messages = #"[{"role":"user","content":"hi"}]"#

    /// A chat body for the synthetic model with `extra` fields.
    static func chat(_ extra: String) -> String { #"{"model":"synthetic","messages":\#(messages),\#(extra)}"# }

    @Test func badBodiesGetTheirStatusAndTheServerGoesOn() async throws {
        var configuration = syntheticConfiguration()
        configuration.maxBodyBytes = 4096
        let cases: [(body: String, status: Int, code: String?, param: String?)] = [
            ("{\"model\":", 400, "invalid_json", nil),
            ("not json at all", 400, "invalid_json", nil),
            ("", 400, "invalid_json", nil),
            ("[1,2,3]", 400, "invalid_json", nil),
            ("\"a string\"", 400, "invalid_json", nil),
            ("42", 400, "invalid_json", nil),
            (#"{"model":"synthetic","messages":"hi"}"#, 400, "invalid_type", "messages"),
            (Self.chat(#""max_tokens":"ten""#), 400, "invalid_type", "max_tokens"),
            (Self.chat(#""stream":"yes""#), 400, "invalid_type", "stream"),
            (Self.chat(#""temperature":"hot""#), 400, "invalid_type", "temperature"),
            (#"{"model":7,"messages":\#(Self.messages)}"#, 400, "invalid_type", "model"),
            (#"{"messages":\#(Self.messages)}"#, 400, "missing_required_parameter", "model"),
            (#"{"model":"gpt-9","messages":\#(Self.messages)}"#, 404, "model_not_found", "model"),
            // unknown fields are ignored whatever their type
            (Self.chat(#""max_tokens":2,"frobnicate":{"x":[1,null]}"#), 200, nil, nil),
            (
                #"{"model":"synthetic","messages":[{"role":"user","content":"\#(String(repeating: "a", count: 5000))"}]}"#,
                413, "body_too_large", nil
            ),
        ]
        try await withServer(configuration) { server in
            for item in cases {
                let response = try await Self.post(server.port, item.body)
                #expect(response.status == item.status, "\(item.body.prefix(80))")
                if item.status != 200 {
                    let error = Self.error(response)
                    #expect(error.code == item.code, "\(item.body.prefix(80))")
                    #expect(error.param == item.param, "\(item.body.prefix(80))")
                }
                try await Self.expectHealthy(server.port)
            }
        }
    }

    @Test func oversizedBodiesAreRefusedWhetherDeclaredOrChunked() async throws {
        var configuration = syntheticConfiguration()
        configuration.maxBodyBytes = 4096
        try await withServer(configuration) { server in
            // a declared gigabyte: refused from the head, without waiting for the body
            let head = try await RawSocketClient.exchange(
                port: server.port,
                request: Array(
                    "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n{\"model\"".utf8
                ),
                stopAfter: 12, timeoutSeconds: 20)
            #expect(head.text.hasPrefix("HTTP/1.1 413"))
            // a chunked upload without a length: counted as it arrives
            let chunk = String(repeating: "x", count: 3000)
            let hex = String(chunk.utf8.count, radix: 16)
            let chunked = try await RawSocketClient.exchange(
                port: server.port,
                request: Array(
                    ("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                        + "Transfer-Encoding: chunked\r\n\r\n\(hex)\r\n\(chunk)\r\n\(hex)\r\n\(chunk)\r\n0\r\n\r\n")
                        .utf8),
                timeoutSeconds: 20)
            let response = try #require(chunked.response)
            #expect(response.status == 413)
            #expect(Self.error(response).code == "body_too_large")
            try await Self.expectHealthy(server.port)
        }
    }

    @Test func aGarbageRequestLineGets400AndAClosedConnection() async throws {
        try await withServer(syntheticConfiguration()) { server in
            for garbage in [
                "GARBAGE\r\n\r\n", "\u{1}\u{2}\u{3} / HTTP/9.9\r\n\r\n", "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
            ] {
                let exchange = try await RawSocketClient.exchange(
                    port: server.port, request: Array(garbage.utf8), timeoutSeconds: 20)
                #expect(exchange.response?.status == 400, "\(garbage.debugDescription): \(exchange.text)")
                #expect(exchange.ending == .eof || exchange.ending == .reset)
                try await Self.expectHealthy(server.port)
            }
        }
    }

    @Test func aClientThatTricklesItsHeadIsClosedAfterTheHeaderTimeout() async throws {
        var configuration = syntheticConfiguration()
        configuration.headerTimeout = .milliseconds(500)
        try await withServer(configuration) { server in
            async let slow = RawSocketClient.exchange(
                port: server.port, request: Array("POST /v1/chat/completions HTTP/1.1\r\nHost: 127".utf8),
                byteDelay: .milliseconds(5), timeoutSeconds: 20)
            async let silent = RawSocketClient.exchange(port: server.port, request: [], timeoutSeconds: 20)
            try await Self.expectHealthy(server.port)
            let (trickled, quiet) = try await (slow, silent)
            // closed by the server (a 20 s receive timeout would end as .timedOut), and never answered
            #expect(trickled.ending == .eof || trickled.ending == .reset)
            #expect(trickled.bytes.isEmpty)
            #expect(quiet.ending == .eof || quiet.ending == .reset)
            try await Self.expectHealthy(server.port)
        }
    }

    @Test func itHolds256ConcurrentStreams() async throws {
        try await withServer(syntheticConfiguration(itlMs: 2, tokens: 16)) { server in
            let results = try await withThrowingTaskGroup(of: (Int, Int, Bool).self) { group in
                for _ in 0..<256 {
                    group.addTask {
                        let response = try await TestHTTPClient.post(
                            port: server.port, path: "/v1/chat/completions",
                            json: chatBody(stream: true, includeUsage: true))
                        let contents = try response.events.dropLast().map(eventJSON).compactMap(contentOf)
                        return (response.status, contents.count, response.events.last == "[DONE]")
                    }
                }
                var all: [(Int, Int, Bool)] = []
                for try await result in group { all.append(result) }
                return all
            }
            #expect(results.count == 256)
            #expect(results.allSatisfy { $0.0 == 200 && $0.1 == 16 && $0.2 })
            try await Self.expectHealthy(server.port)
        }
    }

    @Test func requestsBeyondTheQueueGet429WithRetryAfter() async throws {
        let path = try TinyModelFactory.path(type: .q8_0)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let engine = try TransformerServingEngine(
            path: path, servedName: "tiny",
            options: TransformerServingOptions(threads: 1, contextLength: 64, maxBatch: 1, maxQueue: 2))
        let body = #"{"model":"tiny","messages":[{"role":"user","content":"hello"}],"max_tokens":3}"#
        try await withServer(ServerConfiguration(port: 0, engine: .custom { engine })) { server in
            engine.setSchedulingPaused(true)
            async let first = Self.post(server.port, body)
            async let second = Self.post(server.port, body)
            let deadline = ContinuousClock.now + .seconds(60)
            while engine.schedulerLoad.waiting < 2 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(engine.schedulerLoad.waiting == 2)
            let refused = try await Self.post(server.port, body)
            #expect(refused.status == 429)
            #expect(refused.headers["retry-after"] == "1")
            #expect(Self.error(refused).code == "queue_full")
            #expect(engine.schedulerLoad.waiting == 2)
            engine.setSchedulingPaused(false)
            let (a, b) = try await (first, second)
            #expect(a.status == 200)
            #expect(b.status == 200)
        }
    }
}
