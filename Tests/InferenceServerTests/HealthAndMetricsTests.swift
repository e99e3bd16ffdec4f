import Foundation
import InferenceServer
import Testing

@Suite("Health, models and metrics")
struct HealthAndMetricsTests {
    @Test func healthIs503WhileTheEngineLoads() async throws {
        let (gate, open) = AsyncStream<Void>.makeStream()
        let configuration = ServerConfiguration(
            port: 0,
            engine: .custom {
                for await _ in gate { break }
                return SyntheticEngine()
            })
        try await withServer(configuration) { server in
            for path in ["/health", "/ready"] {
                let loading = try await TestHTTPClient.send(port: server.port, path: path)
                #expect(loading.status == 503)
                #expect(try loading.json()["status"] as? String == "loading")
            }
            let early = try await TestHTTPClient.post(port: server.port, path: "/v1/chat/completions", json: chatBody())
            #expect(early.status == 503)
            open.yield()
            var ready = try await TestHTTPClient.send(port: server.port, path: "/health")
            for _ in 0..<100 where ready.status != 200 {
                try await Task.sleep(for: .milliseconds(20))
                ready = try await TestHTTPClient.send(port: server.port, path: "/health")
            }
            #expect(ready.status == 200)
            #expect(try ready.json()["status"] as? String == "ok")
            #expect(try await TestHTTPClient.send(port: server.port, path: "/ready").status == 200)
        }
    }

    @Test func engineFailureStopsTheServer() async throws {
        struct LoadFailure: Error {}
        let configuration = ServerConfiguration(port: 0, engine: .custom { throw LoadFailure() })
        await #expect(throws: LoadFailure.self) {
            try await LLMServer.run(configuration: configuration, handleSignals: false)
        }
    }

    @Test func modelsListsTheModel() async throws {
        try await withServer(syntheticConfiguration()) { server in
            let response = try await TestHTTPClient.send(port: server.port, path: "/v1/models")
            #expect(response.status == 200)
            let body = try response.json()
            #expect(body["object"] as? String == "list")
            let model = try #require((body["data"] as? [[String: Any]])?.first)
            #expect(model["id"] as? String == "synthetic")
            #expect(model["object"] as? String == "model")
        }
    }

    @Test func metricsAreValidPrometheusTextAndMove() async throws {
        try await withServer(syntheticConfiguration(itlMs: 1)) { server in
            _ = try await TestHTTPClient.post(
                port: server.port, path: "/v1/chat/completions", json: chatBody(maxTokens: 6, stream: true))
            _ = try await TestHTTPClient.post(port: server.port, path: "/v1/completions", json: "{}")
            let response = try await TestHTTPClient.send(port: server.port, path: "/metrics")
            #expect(response.status == 200)
            #expect(response.headers["content-type"]?.hasPrefix("text/plain") == true)
            let metrics = try PrometheusSamples(response.text)
            #expect(metrics.types["llmperf_requests_total"] == "counter")
            #expect(metrics.types["llmperf_time_to_first_token_seconds"] == "histogram")
            #expect(metrics.types["llmperf_time_per_output_token_seconds"] == "histogram")
            #expect(metrics.types["llmperf_requests_running"] == "gauge")
            #expect(metrics.types["llmperf_requests_waiting"] == "gauge")
            #expect(metrics.value(#"llmperf_requests_total{endpoint="/v1/chat/completions",status="200"}"#) == 1)
            #expect(metrics.value(#"llmperf_requests_total{endpoint="/v1/completions",status="400"}"#) == 1)
            #expect(metrics.value("llmperf_generation_tokens_total") == 6)
            #expect(metrics.value("llmperf_prompt_tokens_total") == 4)
            #expect(metrics.value("llmperf_requests_running") == 0)
            #expect(metrics.value("llmperf_time_to_first_token_seconds_count") == 1)
            #expect(metrics.value(#"llmperf_time_to_first_token_seconds_bucket{le="+Inf"}"#) == 1)
            #expect(metrics.value("llmperf_time_per_output_token_seconds_count") == 5)
            // buckets are cumulative
            let buckets = metrics.samples.filter { $0.name.hasPrefix("llmperf_time_per_output_token_seconds_bucket") }
            #expect(buckets.count > 3)
            #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0.value <= $1.value })
        }
    }
}

/// A small parser for the Prometheus text exposition format: checks every line's shape.
struct PrometheusSamples {
    var samples: [(name: String, value: Double)] = []
    var types: [String: String] = [:]

    init(_ text: String) throws {
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, ["counter", "gauge", "histogram"].contains(parts[3]) else {
                    throw TestFailure("bad TYPE line: \(line)")
                }
                types[String(parts[2])] = String(parts[3])
            } else if line.hasPrefix("# HELP ") {
                guard line.split(separator: " ").count >= 4 else { throw TestFailure("bad HELP line: \(line)") }
            } else {
                guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                    throw TestFailure("bad sample line: \(line)")
                }
                let name = String(line[..<space])
                let bare = name.prefix { $0 != "{" }
                guard bare.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }),
                    name == bare || (name.hasSuffix("}") && name.contains("=\""))
                else { throw TestFailure("bad metric name: \(name)") }
                samples.append((name, value))
            }
        }
    }

    func value(_ name: String) -> Double? { samples.first { $0.name == name }?.value }
}
