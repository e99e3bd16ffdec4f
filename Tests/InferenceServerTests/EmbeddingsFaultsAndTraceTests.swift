import Foundation
import InferenceServer
import Testing

/// `/v1/embeddings` under fault mode, in `/metrics` and in the `--trace-file`: like a non-streamed chat request.
@Suite("Embeddings: faults, metrics and trace")
struct EmbeddingsFaultsAndTraceTests {
    static let body = #"{"model":"synthetic","input":["one two", "three"]}"#

    /// A short answer (4 dimensions), for the byte-by-byte `drip`.
    static let shortBody = #"{"model":"synthetic","input":"one two","dimensions":4}"#

    static func ask(
        _ port: Int, fault: String?, requestID: String? = nil, body: String = body
    ) async throws -> RawSocketClient.Exchange {
        var headers: [String: String] = [:]
        if let fault { headers[ServerFault.headerName] = fault }
        if let requestID { headers["x-request-id"] = requestID }
        return try await RawSocketClient.exchange(
            port: port, request: RawSocketClient.post("/v1/embeddings", json: body, headers: headers))
    }

    @Test func httpLevelFaultsApplyAndStreamFaultsAnswerHealthy() async throws {
        try await withServer(EmbeddingsAPITests.configuration()) { server in
            let healthy = try #require(try await Self.ask(server.port, fault: nil).response)
            #expect(healthy.status == 200)

            let limited = try #require(try await Self.ask(server.port, fault: "http_429").response)
            #expect(limited.status == 429 && limited.headers["retry-after"] == "1")
            #expect(limited.text.contains("rate_limit_exceeded"))
            let failed = try #require(try await Self.ask(server.port, fault: "http_500").response)
            #expect(failed.status == 500 && failed.text.contains("server_error"))
            let html = try #require(try await Self.ask(server.port, fault: "http_503_html").response)
            #expect(html.status == 503 && html.headers["content-type"] == "text/html; charset=utf-8")

            let reset = try await Self.ask(server.port, fault: "reset_before_response")
            #expect(reset.bytes.isEmpty && reset.ending == .reset, "got \(reset.text)")

            // Dripped byte by byte: the same answer.
            let short = try #require(try await Self.ask(server.port, fault: nil, body: Self.shortBody).response)
            let dripped = try #require(try await Self.ask(server.port, fault: "drip", body: Self.shortBody).response)
            #expect(dripped.status == 200 && dripped.text == short.text && short.text.contains("\"embedding\":["))
            // Faults only a stream can show: a healthy answer, as for a non-streamed chat request.
            for fault in ["stall_first_token", "reset_mid_stream", "malformed_json", "no_done"] {
                let answered = try #require(try await Self.ask(server.port, fault: fault).response)
                #expect(answered.status == 200 && answered.text == healthy.text, "\(fault)")
            }
            // OpenAI's endpoints take no Anthropic-style error event.
            let refused = try #require(try await Self.ask(server.port, fault: "overloaded_mid_stream").response)
            #expect(refused.status == 400 && refused.text.contains("does not apply to /v1/embeddings"))
            let unknown = try #require(try await Self.ask(server.port, fault: "gremlins").response)
            #expect(unknown.status == 400 && unknown.text.contains("invalid_fault"))
        }
    }

    @Test func metricsCountEmbeddingRequestsAndTheirTokens() async throws {
        try await withServer(EmbeddingsAPITests.configuration()) { server in
            for _ in 0..<3 {
                #expect(try await EmbeddingsAPITests.post(server, Self.body).status == 200)
            }
            #expect(try await EmbeddingsAPITests.post(server, "{}").status == 400)
            let metrics = try await TestHTTPClient.send(port: server.port, path: "/metrics").text
            #expect(
                metrics.contains("llmperf_requests_total{endpoint=\"/v1/embeddings\",status=\"200\"} 3\n"), "\(metrics)"
            )
            #expect(metrics.contains("llmperf_requests_total{endpoint=\"/v1/embeddings\",status=\"400\"} 1\n"))
            #expect(ServingOptimizationsTests.metricValue(metrics, "llmperf_prompt_tokens_total") == 9)
            #expect(ServingOptimizationsTests.metricValue(metrics, "llmperf_requests_running") == 0)
            #expect(ServingOptimizationsTests.metricValue(metrics, "llmperf_e2e_request_latency_seconds_count") == 3)
        }
    }

    /// Arrival and one `response` event, as a non-streamed chat request: the client's calibration matches them.
    @Test func theTraceHasTheArrivalAndTheResponse() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("trace.tsv").path
        try await withServer(EmbeddingsAPITests.configuration(ttftMs: 30, tracePath: path)) { server in
            let response = try #require(try await Self.ask(server.port, fault: nil, requestID: "emb-1").response)
            #expect(response.status == 200 && response.headers["x-request-id"] == "emb-1")
            _ = try await Self.ask(server.port, fault: "http_429", requestID: "emb-2")
        }
        let rows = try FaultModeTests.traceRows(path, requestID: "emb-1")
        #expect(rows.map(\.kind).filter { !$0.contains(":") } == ["accept", "arrival", "response"])
        #expect(rows.contains { $0.kind == "fault:none" })
        let arrival = try #require(rows.first { $0.kind == "arrival" })
        let answered = try #require(rows.first { $0.kind == "response" })
        #expect(answered.index == 0)
        // Two inputs of 30 ms each.
        #expect(answered.nanos >= arrival.nanos + 60_000_000)
        let faulted = try FaultModeTests.traceRows(path, requestID: "emb-2").map(\.kind)
        #expect(faulted.contains("fault:http_429") && !faulted.contains("response"))
    }
}

extension RawResponse {
    /// The body (without chunk framing) as text.
    fileprivate var text: String { String(decoding: body, as: UTF8.self) }
}
