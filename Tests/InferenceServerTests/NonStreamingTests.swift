import Foundation
import InferenceServer
import Testing

@Suite("Non-streaming responses")
struct NonStreamingTests {
    @Test func chatCompletion() async throws {
        try await withServer(syntheticConfiguration()) { server in
            let response = try await TestHTTPClient.post(
                port: server.port, path: "/v1/chat/completions", json: chatBody(maxTokens: 3))
            #expect(response.status == 200)
            #expect(response.headers["content-type"] == "application/json")
            let body = try response.json()
            #expect(body["object"] as? String == "chat.completion")
            #expect(body["model"] as? String == "synthetic")
            let id = try #require(body["id"] as? String)
            #expect(response.headers["x-request-id"] == id)
            let choice = try #require((body["choices"] as? [[String: Any]])?.first)
            let message = try #require(choice["message"] as? [String: Any])
            #expect(message["role"] as? String == "assistant")
            #expect(message["content"] as? String == "lorem ipsum dolor")
            #expect(choice["finish_reason"] as? String == "length")
            let usage = try #require(body["usage"] as? [String: Any])
            #expect(usage["prompt_tokens"] as? Int == 4)
            #expect(usage["completion_tokens"] as? Int == 3)
            #expect(usage["total_tokens"] as? Int == 7)
        }
    }

    @Test func textCompletionWithStopAndSeed() async throws {
        try await withServer(syntheticConfiguration()) { server in
            let stopped = try await TestHTTPClient.post(
                port: server.port, path: "/v1/completions",
                json: #"{"model":"synthetic","prompt":["a b"],"max_tokens":8,"stop":" amet","temperature":0.7}"#)
            let body = try stopped.json()
            #expect(body["object"] as? String == "text_completion")
            let choice = try #require((body["choices"] as? [[String: Any]])?.first)
            #expect(choice["text"] as? String == "lorem ipsum dolor sit")
            #expect(choice["finish_reason"] as? String == "stop")
            #expect((body["usage"] as? [String: Any])?["prompt_tokens"] as? Int == 2)

            let seeded = try await TestHTTPClient.post(
                port: server.port, path: "/v1/completions",
                json: #"{"model":"synthetic","prompt":"x","max_tokens":2,"seed":2}"#)
            let seededText = (try seeded.json()["choices"] as? [[String: Any]])?.first?["text"] as? String
            #expect(seededText == "dolor sit")
        }
    }
}
