import Foundation
import InferenceEngine
import InferenceServer
import InferenceTestSupport
import Testing

/// The transformer engine behind real HTTP: a tiny random llama model written by the test
/// (its text is gibberish, its token accounting is exact).
@Suite("Transformer engine over HTTP")
struct TransformerServingTests {
    static func configuration(modelPath: String, servedName: String = "tiny") -> ServerConfiguration {
        ServerConfiguration(
            port: 0,
            engine: .custom {
                try TransformerServingEngine(path: modelPath, servedName: servedName, threads: 1, contextLength: 64)
            })
    }

    static func waitUntilHealthy(_ port: Int) async throws -> Int {
        var status = try await TestHTTPClient.send(port: port, path: "/health").status
        for _ in 0..<200 where status != 200 {
            try await Task.sleep(for: .milliseconds(20))
            status = try await TestHTTPClient.send(port: port, path: "/health").status
        }
        return status
    }

    static func body(_ content: String, maxTokens: Int, stream: Bool, model: String = "tiny") -> String {
        """
        {"model":"\(model)","messages":[{"role":"user","content":"\(content)"}],"max_tokens":\(maxTokens),\
        "temperature":0,"stream":\(stream),"stream_options":{"include_usage":true}}
        """
    }

    @Test func streamingAndNonStreamingRoundTripsWithExactUsage() async throws {
        let path = try TinyModelFactory.path(type: .q8_0)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withServer(Self.configuration(modelPath: path)) { server in
            #expect(try await Self.waitUntilHealthy(server.port) == 200)
            let model = try TransformerModel.load(path: path, threads: 1, contextLength: 64)
            let templated = model.chatTemplate.render(
                messages: [(role: "user", content: "hello world")], addGenerationPrompt: true)
            let promptTokens = model.tokenizer.encode(templated, addSpecial: true).count

            let plain = try await TestHTTPClient.post(
                port: server.port, path: "/v1/chat/completions",
                json: Self.body("hello world", maxTokens: 5, stream: false))
            #expect(plain.status == 200, "\(plain.text)")
            let usage = try #require(try plain.json()["usage"] as? [String: Any])
            #expect(usage["prompt_tokens"] as? Int == promptTokens)
            let completionTokens = try #require(usage["completion_tokens"] as? Int)
            #expect(completionTokens >= 1 && completionTokens <= 5)

            let streamed = try await TestHTTPClient.post(
                port: server.port, path: "/v1/chat/completions",
                json: Self.body("hello world", maxTokens: 5, stream: true))
            #expect(streamed.status == 200)
            #expect(streamed.events.last == "[DONE]")
            let payloads = try streamed.events.dropLast().map(eventJSON)
            let streamUsage = try #require(payloads.last?["usage"] as? [String: Any])
            // Greedy decoding: the same prompt gives the same answer and the same counts.
            #expect(streamUsage["prompt_tokens"] as? Int == promptTokens)
            #expect(streamUsage["completion_tokens"] as? Int == completionTokens)
            var text = ""
            for payload in payloads {
                let choices = payload["choices"] as? [[String: Any]] ?? []
                text += (choices.first?["delta"] as? [String: Any])?["content"] as? String ?? ""
            }
            let plainChoices = try #require(try plain.json()["choices"] as? [[String: Any]])
            #expect(text == (plainChoices.first?["message"] as? [String: Any])?["content"] as? String)

            // /metrics counts what was generated, in Prometheus text.
            let metrics = try await TestHTTPClient.send(port: server.port, path: "/metrics")
            #expect(metrics.status == 200)
            // The device the forward passes run on, as an info gauge.
            #expect(
                metrics.text.contains(
                    "# TYPE llmperf_engine_device_info gauge\nllmperf_engine_device_info{device=\"cpu\"} 1\n"),
                "\(metrics.text)")
            // Two answers so far (plain and streamed), each of the same prompt and length.
            let counted = { (name: String) in ServingOptimizationsTests.metricValue(metrics.text, name) }
            #expect(counted("llmperf_prompt_tokens_total") == Double(2 * promptTokens), "\(metrics.text)")
            #expect(counted("llmperf_generation_tokens_total") == Double(2 * completionTokens), "\(metrics.text)")
            let answered = metrics.text.split(separator: "\n").filter {
                $0.hasPrefix("llmperf_requests_total{") && $0.contains("status=\"200\"") && $0.contains("chat")
            }
            #expect(answered.count == 1 && answered.first?.hasSuffix(" 2") == true, "\(answered)")

            // Bad input: unknown model, prompt beyond the context, bad JSON.
            let unknown = try await TestHTTPClient.post(
                port: server.port, path: "/v1/chat/completions",
                json: Self.body("hi", maxTokens: 2, stream: false, model: "other"))
            #expect(unknown.status == 400 || unknown.status == 404)
            let long = String(repeating: "hello world ", count: 200)
            let tooLong = try await TestHTTPClient.post(
                port: server.port, path: "/v1/chat/completions", json: Self.body(long, maxTokens: 2, stream: false))
            #expect(tooLong.status == 400)
            #expect(tooLong.text.contains("context"))
            let badJSON = try await TestHTTPClient.post(port: server.port, path: "/v1/completions", json: "{nope")
            #expect(badJSON.status == 400)
        }
    }

    @Test func completionsEndpointCountsPromptTokens() async throws {
        let path = try TinyModelFactory.path(type: .f32, tokenizer: .sentencePiece)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withServer(Self.configuration(modelPath: path)) { server in
            #expect(try await Self.waitUntilHealthy(server.port) == 200)
            let model = try TransformerModel.load(path: path, threads: 1, contextLength: 64)
            let expected = model.tokenizer.encode("hello", addSpecial: true).count
            let result = try await TestHTTPClient.post(
                port: server.port, path: "/v1/completions",
                json: #"{"model":"tiny","prompt":"hello","max_tokens":3,"temperature":0}"#)
            #expect(result.status == 200, "\(result.text)")
            let usage = try #require(try result.json()["usage"] as? [String: Any])
            #expect(usage["prompt_tokens"] as? Int == expected)
        }
    }
}
