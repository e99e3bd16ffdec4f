import Foundation
import InferenceServer
import Testing

/// A stand-in for a caching, batching engine: fixed pieces, a cache-hit header and usage extras.
private struct ScriptedEngine: ServingEngine {
    var modelName: String { "scripted" }
    var contextLength: Int { 100 }
    var schedulerLoad: SchedulerLoad { SchedulerLoad(waiting: 3, running: 1) }

    func prepare(_ input: PromptInput) throws -> PreparedPrompt {
        guard case .chat(let messages) = input else {
            throw APIError.invalidRequest("chat only", param: "prompt", code: "unsupported")
        }
        return PreparedPrompt(text: messages.map(\.content).joined(), tokenIDs: [1, 2, 3], tokenCount: 3)
    }

    func generate(_ request: GenerationRequest) -> GenerationStream {
        GenerationStream(
            responseHeaders: [(name: "x-cache", value: "hit")],
            makeNext: {
                var sent = false
                return {
                    if sent { return nil }
                    sent = true
                    return GenerationBatch(
                        pieces: [
                            GeneratedPiece(text: "say \"hi\"\n", tokenCount: 2), GeneratedPiece(text: "\\\t\u{1}é"),
                        ],
                        finish: GenerationFinish(
                            reason: .stop,
                            usageDetails: UsageDetails(cachedPromptTokens: 2, extra: ["draft_accepted": 1])))
                }
            })
    }
}

@Suite("Engine seam")
struct EngineSeamTests {
    @Test func customEngineHeadersEscapingAndUsageDetails() async throws {
        let configuration = ServerConfiguration(port: 0, engine: .custom { ScriptedEngine() })
        try await withServer(configuration) { server in
            var ready = try await TestHTTPClient.send(port: server.port, path: "/health")
            for _ in 0..<100 where ready.status != 200 {
                try await Task.sleep(for: .milliseconds(10))
                ready = try await TestHTTPClient.send(port: server.port, path: "/health")
            }
            let body =
                #"{"model":"scripted","messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":true}}"#
            let response = try await TestHTTPClient.post(port: server.port, path: "/v1/chat/completions", json: body)
            #expect(response.headers["x-cache"] == "hit")
            let events = response.events
            #expect(events.count == 6)
            var text = ""
            for event in events[1...2] {
                text += try #require(
                    ((try eventJSON(event)["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?[
                        "content"]
                        as? String)
            }
            #expect(text == "say \"hi\"\n\\\t\u{1}é")
            let usage = try #require(try eventJSON(events[4])["usage"] as? [String: Any])
            #expect(usage["completion_tokens"] as? Int == 3)
            #expect(usage["prompt_tokens"] as? Int == 3)
            #expect((usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int == 2)
            #expect(usage["draft_accepted"] as? Int == 1)

            let rejected = try await TestHTTPClient.post(
                port: server.port, path: "/v1/completions", json: #"{"model":"scripted","prompt":"x"}"#)
            #expect(rejected.status == 400)
            #expect((try rejected.json()["error"] as? [String: Any])?["code"] as? String == "unsupported")

            let metrics = try PrometheusSamples(try await TestHTTPClient.send(port: server.port, path: "/metrics").text)
            #expect(metrics.value("llmperf_requests_waiting") == 3)
        }
    }
}

private struct FailingEngine: ServingEngine {
    struct Broken: Error {}
    var modelName: String { "failing" }
    var contextLength: Int { 100 }
    func prepare(_ input: PromptInput) throws -> PreparedPrompt { PreparedPrompt(text: "", tokenCount: 1) }
    func generate(_ request: GenerationRequest) -> GenerationStream {
        GenerationStream(makeNext: { { throw Broken() } })
    }
}

@Suite("Engine failures")
struct EngineFailureTests {
    @Test func nonStreamedFailureIsA500WithAnErrorBody() async throws {
        try await withServer(ServerConfiguration(port: 0, engine: .custom { FailingEngine() })) { server in
            var ready = try await TestHTTPClient.send(port: server.port, path: "/health")
            for _ in 0..<100 where ready.status != 200 {
                try await Task.sleep(for: .milliseconds(10))
                ready = try await TestHTTPClient.send(port: server.port, path: "/health")
            }
            let response = try await TestHTTPClient.post(
                port: server.port, path: "/v1/chat/completions",
                json: #"{"model":"failing","messages":[{"role":"user","content":"x"}]}"#)
            #expect(response.status == 500)
            #expect((try response.json()["error"] as? [String: Any])?["type"] as? String == "server_error")
            let streamed = try await TestHTTPClient.send(
                port: server.port, method: "POST", path: "/v1/chat/completions",
                headers: ["Content-Type": "application/json"],
                body: #"{"model":"failing","messages":[{"role":"user","content":"x"}],"stream":true}"#,
                readLimit: 1 << 20)
            #expect(streamed.status == 200)  // headers were out before the engine failed; the stream is cut
            #expect(!streamed.text.contains("[DONE]"))
            #expect(try await TestHTTPClient.send(port: server.port, path: "/health").status == 200)
        }
    }
}
