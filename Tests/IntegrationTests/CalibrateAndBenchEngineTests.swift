import Foundation
import Testing

/// `calibrate` and `bench-engine` through the executable at a small size, checking what they
/// report: numbers that must hold whatever the machine's load (causality, counts), not speeds.
@Suite(.serialized) struct CalibrateAndBenchEngineTests {
    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    @Test func calibrateReportsBiasThroughputAndMemory() throws {
        let result = try LLMPerfProcess.run(
            ["calibrate", "--scale", "0.1", "--tokens", "16", "--bias-concurrency", "4", "--json"], timeout: 300)
        #expect(result.status == 0, "stderr:\n\(result.stderr)")
        let json = try Self.object(result.stdout)
        let bias = try #require(json["bias"] as? [String: Any])
        // Four bias requests (40 × 0.1), each matched with the server's own trace.
        #expect(bias["matchedRequests"] as? Int == 4, "\(bias)")
        // Causality: the client stamps its start before the server's arrival and each token after
        // the server sent it, so neither difference can be negative.
        let ttft = try #require(bias["ttftBias"] as? [String: Any])
        #expect(try #require(ttft["min"] as? Double) >= 0, "\(ttft)")
        #expect(ttft["count"] as? Int == 4)
        let delivery = try #require(bias["deliveryDelay"] as? [String: Any])
        #expect(try #require(delivery["min"] as? Double) >= 0, "\(delivery)")
        #expect(delivery["count"] as? Int == 4 * 64)
        // Throughput steps at concurrency 1, 64, 256: every request answered, tokens counted.
        let steps = try #require(json["throughput"] as? [[String: Any]])
        #expect(steps.compactMap { $0["concurrency"] as? Int } == [1, 64, 256])
        #expect(steps.compactMap { $0["requests"] as? Int } == [10, 128, 256])
        for step in steps {
            #expect(step["errors"] as? Int == 0, "\(step)")
            #expect((step["outputTokensPerSecond"] as? Double).map { $0 > 0 } == true, "\(step)")
        }
        let streams = try #require(json["concurrentStreams"] as? [String: Any])
        #expect(streams["concurrency"] as? Int == 1000 && streams["errors"] as? Int == 0, "\(streams)")
        // Cold bursts: every request on a new connection, whose accept the server traced; the server reads a
        // request only after it accepted its connection.
        let bursts = try #require(json["coldBursts"] as? [[String: Any]])
        #expect(bursts.compactMap { $0["concurrency"] as? Int } == [64, 256])
        for burst in bursts {
            let size = try #require(burst["concurrency"] as? Int)
            let burstBias = try #require(burst["bias"] as? [String: Any])
            #expect(burstBias["newConnections"] as? Int == size, "\(burstBias)")
            let accept = try #require(burstBias["acceptDelay"] as? [String: Any], "\(burstBias)")
            #expect(accept["count"] as? Int == size)
            let afterAccept = try #require(burstBias["readAfterAccept"] as? [String: Any])
            #expect(afterAccept["count"] as? Int == size)
            #expect(try #require(afterAccept["min"] as? Double) >= 0, "\(afterAccept)")
        }
    }

    /// Every dialect is calibrated against the server's own trace: each token matched, none lost.
    @Test(arguments: ["anthropic", "openai-responses", "ollama", "llamacpp", "tgi"])
    func calibrateSpeaksTheAPIItIsGiven(_ api: String) throws {
        let result = try LLMPerfProcess.run(
            [
                "calibrate", "--api", api, "--scale", "0.1", "--tokens", "16", "--bias-concurrency", "4",
                "--cold-burst", "0", "--json",
            ], timeout: 300)
        #expect(result.status == 0, "stderr:\n\(result.stderr)")
        let json = try Self.object(result.stdout)
        #expect(json["api"] as? String == api)
        let bias = try #require(json["bias"] as? [String: Any])
        #expect(bias["matchedRequests"] as? Int == 4, "\(bias)")
        let delivery = try #require(bias["deliveryDelay"] as? [String: Any])
        #expect(try #require(delivery["min"] as? Double) >= 0, "\(delivery)")
        #expect(delivery["count"] as? Int == 4 * 64)
        for step in try #require(json["throughput"] as? [[String: Any]]) {
            #expect(step["errors"] as? Int == 0, "\(step)")
        }
        let unknown = try LLMPerfProcess.run(["calibrate", "--api", "grpc"], timeout: 60)
        #expect(unknown.status != 0 && unknown.stderr.contains("unknown API 'grpc'"))
        let embeddings = try LLMPerfProcess.run(["calibrate", "--api", "openai-embeddings"], timeout: 60)
        #expect(embeddings.status != 0 && embeddings.stderr.contains("the openai-embeddings API streams no tokens"))
    }

    @Test func benchEngineMeasuresTheDefaultModel() throws {
        let binary = try LLMPerfProcess.releaseBinary()
        let result = try LLMPerfProcess.run(
            [
                "bench-engine", "--prompt-tokens", "16", "--decode-tokens", "4", "--repetitions", "1",
                "--weights", "q8_0", "--json",
            ], binary: binary, timeout: 300)
        #expect(result.status == 0, "stderr:\n\(result.stderr)")
        let json = try Self.object(result.stdout)
        #expect(json["weights"] as? String == "q8_0")
        #expect(json["matrix_types"] as? [String] == ["Q8_0"], "\(json)")
        #expect(json["prompt_tokens"] as? Int == 16 && json["decode_tokens"] as? Int == 4)
        for key in [
            "load_seconds", "prefill_tokens_per_s_best", "prefill_tokens_per_s_median", "decode_tokens_per_s_best",
            "decode_tokens_per_s_median", "memory_bandwidth_gb_per_s",
        ] {
            #expect((json[key] as? Double).map { $0 > 0 && $0.isFinite } == true, "\(key): \(json[key] ?? "none")")
        }
        // Best is at least the median, by definition.
        let prefillBest = try #require(json["prefill_tokens_per_s_best"] as? Double)
        #expect(prefillBest >= (json["prefill_tokens_per_s_median"] as? Double ?? .infinity))
        // Peak RSS holds at least the model's weights (~98 MB as Q4_1; more as q8_0), when /proc tells.
        if let rss = json["peak_rss_bytes"] as? Int {
            #expect(rss > 98_000_000, "\(rss)")
        } else {
            #expect(json["peak_rss_bytes"] is NSNull || json["peak_rss_bytes"] == nil)
        }
    }
}
