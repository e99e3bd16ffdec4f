import Foundation
import HTTPTypes
import Testing

@testable import InferenceServer

/// llama.cpp's `POST /completion` and TGI's `POST /generate_stream` and `POST /generate` over a real loopback
/// server with the synthetic engine (no seed: the words "lorem", " ipsum", " dolor", …; the prompt "Say
/// something" is 2 tokens): the exact events and bodies, the measured timings, errors in each server's shape,
/// the faults and the trace.
@Suite("Native llama.cpp and TGI endpoints")
struct NativeEndpointsTests {
    static func configuration(ttftMs: Double = 0, itlMs: Double = 0, tracePath: String? = nil) -> ServerConfiguration {
        syntheticConfiguration(ttftMs: ttftMs, itlMs: itlMs, tokens: 16, tracePath: tracePath)
    }

    static func llama(nPredict: Int? = 3, stream: Bool, extra: String = "") -> String {
        var body = "{\"prompt\":\"Say something\""
        if let nPredict { body += ",\"n_predict\":\(nPredict)" }
        return body + ",\"stream\":\(stream)\(extra)}"
    }

    static func tgi(maxNewTokens: Int? = 3, details: Bool = true, extra: String = "") -> String {
        var parameters = "\"details\":\(details)"
        if let maxNewTokens { parameters += ",\"max_new_tokens\":\(maxNewTokens)" }
        return "{\"inputs\":\"Say something\",\"parameters\":{\(parameters)\(extra)}}"
    }

    static func post(
        _ server: RunningServer, _ path: String, _ json: String, headers: [String: String] = [:]
    ) async throws -> TestHTTPClient.Result {
        try await TestHTTPClient.post(port: server.port, path: path, json: json, headers: headers)
    }

    static func llamaToken(_ text: String, _ predicted: Int) -> String {
        "{\"index\":0,\"content\":\"\(text)\",\"tokens\":[],\"stop\":false,\"id_slot\":-1,"
            + "\"tokens_predicted\":\(predicted),\"tokens_evaluated\":2}"
    }

    static func tgiToken(_ index: Int, _ text: String, special: Bool = false) -> String {
        "{\"index\":\(index),\"token\":{\"id\":\(index),\"text\":\"\(text)\",\"logprob\":0.0,\"special\":\(special)}"
    }

    // MARK: llama.cpp

    @Test func llamaCppStreamsOneEventPerTokenThenStopWithMeasuredTimings() async throws {
        try await withServer(Self.configuration(ttftMs: 20, itlMs: 10)) { server in
            let r = try await Self.post(server, "/completion", Self.llama(stream: true))
            #expect(r.status == 200 && r.headers["content-type"] == "text/event-stream")
            let events = r.events
            #expect(events.count == 4)
            #expect(
                Array(events.prefix(3)) == [
                    Self.llamaToken("lorem", 1), Self.llamaToken(" ipsum", 2), Self.llamaToken(" dolor", 3),
                ])
            // No [DONE]: the stream ends at stop: true.
            #expect(!r.text.contains("[DONE]"))
            let last = try eventJSON(try #require(events.last))
            #expect(last["stop"] as? Bool == true && last["content"] as? String == "")
            #expect(last["tokens_predicted"] as? Int == 3 && last["tokens_evaluated"] as? Int == 2)
            #expect(last["stop_type"] as? String == "limit" && last["model"] as? String == "synthetic")
            let timings = try #require(last["timings"] as? [String: Any])
            #expect(timings["prompt_n"] as? Int == 2 && timings["predicted_n"] as? Int == 3)
            #expect(timings["cache_n"] as? Int == 0)
            // Measured: the first token is due 20 ms after arrival, the third 40 ms after it (absolute deadlines:
            // a late first token shortens the gap to the last, never the sum). `prompt_ms` is the prefill alone:
            // with the preprocessing and the queue before it, the first token's 20 ms.
            let promptMs = try #require(timings["prompt_ms"] as? Double)
            let predictedMs = try #require(timings["predicted_ms"] as? Double)
            let beforePrefill =
                try #require(timings["preprocess_ms"] as? Double) + (timings["queue_ms"] as? Double ?? -1)
            #expect(beforePrefill + promptMs >= 19.99 && promptMs < 1000, "\(timings)")
            // (On a loaded machine a late handler gets all three at once: predicted_ms 0, its rate 0.)
            #expect(beforePrefill + promptMs + predictedMs >= 39.99 && predictedMs < 1000, "\(timings)")
            let perToken = try #require(timings["predicted_per_token_ms"] as? Double)
            #expect(abs(perToken - predictedMs / 3) < 0.01)
            let perSecond = try #require(timings["predicted_per_second"] as? Double)
            #expect(abs(perSecond - (predictedMs > 0 ? 3_000 / predictedMs : 0)) < 0.5)
            #expect(timings["prompt_per_token_ms"] as? Double != nil && timings["prompt_per_second"] as? Double != nil)
        }
    }

    @Test func llamaCppWholeAnswerAndItsDefaultLength() async throws {
        try await withServer(Self.configuration()) { server in
            let whole = try await Self.post(server, "/completion", Self.llama(stream: false))
            #expect(whole.status == 200 && whole.headers["content-type"] == "application/json")
            let object = try whole.json()
            #expect(object["content"] as? String == "lorem ipsum dolor")
            #expect(object["stop"] as? Bool == true && object["tokens_predicted"] as? Int == 3)
            #expect(object["stop_type"] as? String == "limit")
            // n_predict -1 (or none): the engine's default length, ended by the engine (eos).
            let open = try await Self.post(server, "/completion", Self.llama(nPredict: -1, stream: true))
            #expect(open.events.count == 17)
            let last = try eventJSON(try #require(open.events.last))
            #expect(last["tokens_predicted"] as? Int == 16 && last["stop_type"] as? String == "eos")
        }
    }

    @Test func llamaCppErrorsInItsShape() async throws {
        try await withServer(Self.configuration()) { server in
            let zero = try await Self.post(server, "/completion", Self.llama(nPredict: 0, stream: true))
            #expect(zero.status == 400)
            let error = try #require(try zero.json()["error"] as? [String: Any])
            #expect(error["code"] as? Int == 400 && error["type"] as? String == "invalid_request_error")
            #expect((error["message"] as? String)?.contains("n_predict") == true)
            let noPrompt = try await Self.post(server, "/completion", "{\"n_predict\":3}")
            #expect(noPrompt.status == 400)
            #expect(
                (try noPrompt.json()["error"] as? [String: Any])?["message"] as? String
                    == "Missing required parameter: 'prompt'.")
            let stop = try await Self.post(server, "/completion", Self.llama(stream: true, extra: ",\"stop\":[\"x\"]"))
            #expect(stop.status == 400)
            let get = try await TestHTTPClient.send(port: server.port, path: "/completion")
            let getError = try get.json()["error"] as? [String: Any]
            #expect(get.status == 405 && getError?["code"] as? Int == 405)
        }
    }

    // MARK: TGI

    @Test func tgiStreamsTokenEventsTheLastWithTextAndDetails() async throws {
        try await withServer(Self.configuration(itlMs: 2)) { server in
            let r = try await Self.post(server, "/generate_stream", Self.tgi())
            #expect(r.status == 200 && r.headers["content-type"] == "text/event-stream")
            #expect(
                r.events == [
                    Self.tgiToken(1, "lorem") + ",\"generated_text\":null,\"details\":null}",
                    Self.tgiToken(2, " ipsum") + ",\"generated_text\":null,\"details\":null}",
                    Self.tgiToken(3, " dolor")
                        + ",\"generated_text\":\"lorem ipsum dolor\",\"details\":{\"finish_reason\":\"length\","
                        + "\"generated_tokens\":3,\"input_length\":2,\"seed\":null}}",
                ])
            // details: false leaves them out; a seed is echoed.
            let plain = try await Self.post(server, "/generate_stream", Self.tgi(maxNewTokens: 1, details: false))
            #expect(plain.events == [Self.tgiToken(1, "lorem") + ",\"generated_text\":\"lorem\",\"details\":null}"])
            let seeded = try await Self.post(
                server, "/generate_stream", Self.tgi(maxNewTokens: 1, extra: ",\"seed\":3"))
            #expect((try eventJSON(seeded.events[0])["details"] as? [String: Any])?["seed"] as? Int == 3)
        }
    }

    @Test func tgiGenerateAnswersWhole() async throws {
        try await withServer(Self.configuration()) { server in
            let r = try await Self.post(server, "/generate", Self.tgi(maxNewTokens: nil))
            #expect(r.status == 200)
            #expect(
                r.text
                    == "{\"generated_text\":\"" + SyntheticEngine.words.prefix(16).joined(separator: " ")
                    + "\",\"details\":{\"finish_reason\":\"eos_token\",\"generated_tokens\":16,\"input_length\":2,"
                    + "\"seed\":null}}")
        }
    }

    @Test func tgiErrorsInItsShapeWith422ForValidation() async throws {
        try await withServer(Self.configuration()) { server in
            let cold = try await Self.post(server, "/generate_stream", Self.tgi(extra: ",\"temperature\":0"))
            #expect(cold.status == 422)
            let object = try cold.json()
            #expect(object["error_type"] as? String == "validation")
            #expect((object["error"] as? String)?.contains("temperature") == true)
            let empty = try await Self.post(server, "/generate", "{\"inputs\":\"\"}")
            let emptyError = try empty.json()["error"] as? String
            #expect(empty.status == 422 && emptyError == "`inputs` cannot be empty")
            let notJSON = try await Self.post(server, "/generate", "{")
            let notJSONType = try notJSON.json()["error_type"] as? String
            #expect(notJSON.status == 422 && notJSONType == "validation")
        }
    }

    // MARK: faults and trace

    @Test func httpFaultsApplyAndStreamFaultsAreRefused() async throws {
        try await withServer(Self.configuration()) { server in
            let limited = try await Self.post(
                server, "/generate_stream", Self.tgi(), headers: [ServerFault.headerName: "http_429"])
            #expect(limited.status == 429 && limited.headers["retry-after"] == "1")
            #expect(try limited.json()["error_type"] as? String == "overloaded")
            let failed = try await Self.post(
                server, "/completion", Self.llama(stream: true), headers: [ServerFault.headerName: "http_500"])
            #expect(failed.status == 500)
            #expect((try failed.json()["error"] as? [String: Any])?["type"] as? String == "server_error")
            let refused = try await Self.post(
                server, "/completion", Self.llama(stream: true), headers: [ServerFault.headerName: "malformed_json"])
            #expect(refused.status == 400)
            let message = (try refused.json()["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(message.contains("does not apply to /completion") && message.contains("http_429"))
            let refusedTGI = try await Self.post(
                server, "/generate_stream", Self.tgi(), headers: [ServerFault.headerName: "stall_mid_stream"])
            #expect(refusedTGI.status == 422)
        }
    }

    @Test func traceRecordsEachEventAsTheChatEndpointDoes() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("trace.tsv").path
        try await withServer(Self.configuration(itlMs: 5, tracePath: path)) { server in
            _ = try await Self.post(server, "/completion", Self.llama(stream: true), headers: ["x-request-id": "l1"])
            _ = try await Self.post(server, "/generate_stream", Self.tgi(), headers: ["x-request-id": "t1"])
        }
        let llama = try FaultModeTests.traceRows(path, requestID: "l1").filter { !$0.kind.hasPrefix("remote_port") }
        #expect(
            llama.map(\.kind) == ["accept", "arrival", "fault:none", "first_token", "token", "token", "finish", "done"])
        #expect(llama.suffix(5).map(\.index) == [0, 1, 2, 3, 3])
        let tgi = try FaultModeTests.traceRows(path, requestID: "t1").filter { !$0.kind.hasPrefix("remote_port") }
        #expect(
            tgi.map(\.kind) == ["accept", "arrival", "fault:none", "first_token", "token", "token", "finish", "done"])
        #expect(tgi.suffix(5).map(\.index) == [0, 1, 2, 2, 2])
    }
}
