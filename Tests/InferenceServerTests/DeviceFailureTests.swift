import Foundation
import InferenceEngine
import InferenceTestSupport
import Testing

@testable import InferenceServer
@testable import VulkanEngine

/// A forward pass that fails on the engine's device (a GPU lost mid-serve, out of memory) answers its requests
/// with a 500 naming the failure, counts it on `/metrics`, and leaves the server serving: the next pass runs.
/// On the first Vulkan device (lavapipe under `make test`), whose accelerator is told to fail one pass.
@Suite("Device failure", .serialized)
struct DeviceFailureTests {
    static func body(stream: Bool) -> String {
        """
        {"model":"tiny","messages":[{"role":"user","content":"hello"}],"max_tokens":4,"temperature":0,\
        "ignore_eos":true,"stream":\(stream)}
        """
    }

    /// A healthy server on a tiny model on the first Vulkan device, and the model's accelerator (to fail a pass).
    static func start() async throws -> (RunningServer, TransformerServingEngine, VulkanModel) {
        let path = try TinyModelFactory.path(type: .q8_0)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let engine = try TransformerServingEngine(
            path: path, servedName: "tiny",
            options: TransformerServingOptions(threads: 1, contextLength: 64, device: .vulkan(index: 0)))
        let accelerator = try #require(engine.model.accelerator as? VulkanModel)
        let server = try await LLMServer.start(
            configuration: ServerConfiguration(host: "127.0.0.1", port: 0, engine: .custom { engine }))
        #expect(try await TransformerServingTests.waitUntilHealthy(server.port) == 200)
        return (server, engine, accelerator)
    }

    @Test func aFailedPassAnswers500AndTheServerGoesOn() async throws {
        let (server, engine, accelerator) = try await Self.start()
        let port = server.port

        // Set while the inference thread is idle (no request yet): the next pass throws a lost device.
        accelerator.failNextPass = .call("vkQueueSubmit", -4)
        let failed = try await TestHTTPClient.post(
            port: port, path: "/v1/chat/completions", json: Self.body(stream: false))
        #expect(failed.status == 500, "\(failed.text)")
        let error = try #require(try failed.json()["error"] as? [String: Any])
        #expect(error["code"] as? String == "engine_failure")
        #expect((error["message"] as? String)?.contains("vkQueueSubmit failed (VkResult -4)") == true, "\(error)")

        // The next request runs: the failed pass left nothing behind.
        let answered = try await TestHTTPClient.post(
            port: port, path: "/v1/chat/completions", json: Self.body(stream: false))
        #expect(answered.status == 200, "\(answered.text)")
        let usage = try #require(try answered.json()["usage"] as? [String: Any])
        #expect(usage["completion_tokens"] as? Int == 4)

        // Streamed: the failure is an error event, then [DONE].
        accelerator.failNextPass = .call("vkQueueSubmit", -4)
        let streamed = try await TestHTTPClient.post(
            port: port, path: "/v1/chat/completions", json: Self.body(stream: true))
        #expect(streamed.status == 200)
        #expect(streamed.events.last == "[DONE]")
        let last = try #require(try streamed.events.dropLast().map(eventJSON).last)
        #expect((last["error"] as? [String: Any])?["code"] as? String == "engine_failure", "\(streamed.events)")

        #expect(engine.metricsText.contains("llmperf_forward_pass_failures_total 2\n"), "\(engine.metricsText)")
        try await server.stop()
    }

    /// An embedding's pass that fails on the device answers 500 `engine_failure` too (it ran on the same inference
    /// thread, which once ended the process), and the next embedding is the same vector as before the failure.
    @Test func aFailedEmbeddingPassAnswers500AndTheServerGoesOn() async throws {
        let (server, engine, accelerator) = try await Self.start()
        let port = server.port
        let body = #"{"model":"tiny","input":["hello world","a second input"]}"#
        func embeddings(_ response: TestHTTPClient.Result) throws -> [[Double]] {
            let data = try #require(try response.json()["data"] as? [[String: Any]], "\(response.text)")
            return try data.map { try #require($0["embedding"] as? [Double]) }
        }

        let before = try await TestHTTPClient.post(port: port, path: "/v1/embeddings", json: body)
        #expect(before.status == 200, "\(before.text)")
        let expected = try embeddings(before)
        #expect(expected.count == 2)

        accelerator.failNextPass = .call("vkQueueSubmit", -4)
        let failed = try await TestHTTPClient.post(port: port, path: "/v1/embeddings", json: body)
        #expect(failed.status == 500, "\(failed.text)")
        let error = try #require(try failed.json()["error"] as? [String: Any], "\(failed.text)")
        #expect(error["code"] as? String == "engine_failure")
        #expect((error["message"] as? String)?.contains("vkQueueSubmit failed (VkResult -4)") == true, "\(error)")

        let after = try await TestHTTPClient.post(port: port, path: "/v1/embeddings", json: body)
        #expect(after.status == 200, "\(after.text)")
        #expect(try embeddings(after) == expected)
        #expect(engine.metricsText.contains("llmperf_forward_pass_failures_total 1\n"), "\(engine.metricsText)")
        try await server.stop()
    }
}
