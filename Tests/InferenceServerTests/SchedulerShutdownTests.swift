import Foundation
import InferenceEngine
import InferenceTestSupport
import Testing

@testable import InferenceServer

/// Stopping the server with the transformer engine busy: the request in flight is drained to its own end, the
/// waiting ones are answered 503 (`server_shutting_down`; an error event when streamed), and the inference thread
/// ends.
@Suite("BatchScheduler shutdown")
struct SchedulerShutdownTests {
    static func body(maxTokens: Int, stream: Bool) -> String {
        """
        {"model":"tiny","messages":[{"role":"user","content":"hello"}],"max_tokens":\(maxTokens),"temperature":0,\
        "ignore_eos":true,"stream":\(stream),"stream_options":{"include_usage":true}}
        """
    }

    /// Polls `condition` (the scheduler's state, not a duration) for at most a minute.
    static func waitFor(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw TestFailure("never reached: \(what)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    @Test func stopDrainsTheRunningRequestAndAnswersTheWaitingOnes() async throws {
        let path = try TinyModelFactory.path(type: .q8_0)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let engine = try TransformerServingEngine(
            path: path, servedName: "tiny",
            options: TransformerServingOptions(threads: 1, contextLength: 64, maxBatch: 1))
        let server = try await LLMServer.start(
            configuration: ServerConfiguration(
                host: "127.0.0.1", port: 0, engine: .custom { engine }, shutdownGracePeriod: .seconds(120)))
        let port = server.port
        #expect(try await TransformerServingTests.waitUntilHealthy(port) == 200)

        // One request in flight (admitted, its prompt run), then the loop holds; two more wait behind it.
        engine.setSchedulingPaused(true)
        async let running = TestHTTPClient.post(
            port: port, path: "/v1/chat/completions", json: Self.body(maxTokens: 20, stream: true))
        try await Self.waitFor("one request waiting") { engine.schedulerLoad.waiting == 1 }
        engine.allowSchedulingIterations(1)
        try await Self.waitFor("the request running") {
            engine.schedulerLoad == SchedulerLoad(waiting: 0, running: 1)
        }
        async let waitingPlain = TestHTTPClient.post(
            port: port, path: "/v1/chat/completions", json: Self.body(maxTokens: 20, stream: false))
        async let waitingStreamed = TestHTTPClient.post(
            port: port, path: "/v1/chat/completions", json: Self.body(maxTokens: 20, stream: true))
        try await Self.waitFor("two requests waiting") { engine.schedulerLoad.waiting == 2 }

        try await server.stop()

        // Drained: all 20 tokens, finish_reason length, usage and [DONE].
        let drained = try await running
        #expect(drained.status == 200)
        #expect(drained.events.last == "[DONE]")
        let payloads = try drained.events.dropLast().map(eventJSON)
        let reasons = payloads.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }
        #expect(reasons == ["length"])
        #expect((payloads.last?["usage"] as? [String: Any])?["completion_tokens"] as? Int == 20)

        // Waiting, not streamed: a 503 with the OpenAI error body.
        let plain = try await waitingPlain
        #expect(plain.status == 503, "\(plain.text)")
        let error = try #require(try plain.json()["error"] as? [String: Any])
        #expect(error["code"] as? String == "server_shutting_down")

        // Waiting, streamed: the role event, then an error event and [DONE]; no finish reason, no tokens.
        let streamed = try await waitingStreamed
        #expect(streamed.status == 200)
        #expect(streamed.events.last == "[DONE]")
        let events = try streamed.events.dropLast().map(eventJSON)
        let last = try #require(events.last)
        #expect((last["error"] as? [String: Any])?["code"] as? String == "server_shutting_down")
        #expect(events.dropLast().allSatisfy { $0["error"] == nil })
        #expect(events.count == 2, "\(streamed.events)")

        // The inference thread ended; a later request is refused before it starts.
        try await Self.waitFor("the inference thread ended") { engine.schedulerExited }
        #expect(engine.schedulerLoad == SchedulerLoad(waiting: 0, running: 0))
        let late = engine.generate(
            GenerationRequest(
                requestID: "late", prompt: try engine.prepare(.completion("hello")), maxTokens: 1,
                maxTokensRequested: true, temperature: 0, topP: nil, seed: nil, ignoreEOS: false, arrivalNanos: 0))
        #expect(late.refusal == BatchScheduler.shuttingDown)
    }
}
