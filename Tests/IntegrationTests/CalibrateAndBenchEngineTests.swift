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
        try Self.expectWireBias(json, runs: [4], bursts: [64, 256])
    }

    /// The bias against the wire: with a packet socket (root, as CI runs), every measured request found on the
    /// loopback interface, nothing dropped, and the order of events that must hold: the server reads a request
    /// after its segment went out and sends a token before its segment leaves; the client writes a request before
    /// its segment and reads a token after it (each within the 20 µs of the two clocks' conversion). Without one,
    /// the report says why.
    static func expectWireBias(_ json: [String: Any], runs: [Int], bursts: [Int]) throws {
        let capture = try #require(json["wireCapture"] as? [String: Any], "\(json.keys)")
        // Whether this process may open a packet socket (the calibrate child has the same privileges).
        let probe = socket(AF_PACKET, Int32(SOCK_DGRAM.rawValue), Int32(UInt16(0x0800).bigEndian))
        let refusal = errno
        guard probe >= 0 else {
            let reason = try #require(capture["unavailable"] as? String, "\(capture)")
            if refusal == EPERM { #expect(reason.contains("root or CAP_NET_RAW"), "\(reason)") }
            return
        }
        close(probe)
        #expect(capture["unavailable"] == nil, "\(capture)")
        #expect(capture["dropped"] as? Int == 0, "\(capture)")
        #expect((capture["segments"] as? Int).map { $0 > 0 } == true, "\(capture)")
        let measured =
            try #require(json["biasRuns"] as? [[String: Any]]) + (try #require(json["coldBursts"] as? [[String: Any]]))
        #expect(measured.count == runs.count + bursts.count)
        for (run, requests) in zip(measured, runs + bursts) {
            let wire = try #require(run["wire"] as? [String: Any], "\(run)")
            #expect(wire["matchedRequests"] as? Int == requests, "\(wire)")
            #expect(wire["unmatchedRequests"] as? Int == 0, "\(wire)")
            for key in ["serverReadDelay", "serverSendDelay", "sendDelay", "receiveDelay", "deliveryDelay"] {
                let summary = try #require(wire[key] as? [String: Any], "\(key): \(wire)")
                #expect(try #require(summary["min"] as? Double) >= -0.02, "\(key): \(summary)")
            }
            let ttft = try #require(wire["ttftBias"] as? [String: Any])
            #expect(ttft["count"] as? Int == requests)
        }
    }

    /// `--client-cpus` and `--server-cpus` put the client and the servers on the CPUs named, and the report says so.
    /// The CPUs this process may run on (its cgroup may allow fewer than the machine has), ascending.
    static func allowedCPUs() throws -> [Int] {
        let list = try #require(allowedCPUs("/proc/self/status"))
        return try list.split(separator: ",").flatMap { item -> [Int] in
            let bounds = try item.split(separator: "-").map { try #require(Int($0), "\(list)") }
            return Array(bounds[0]...bounds[bounds.count - 1])
        }
    }

    /// `--client-cpus` and `--server-cpus` put the client and the servers on the CPUs named (two of those this
    /// process may use, or the one twice), and the report says so.
    @Test func calibrateKeepsClientAndServerOnTheirCPUs() throws {
        let allowed = try Self.allowedCPUs()
        let client = allowed[0]
        let server = allowed.count > 1 ? allowed[1] : allowed[0]
        let result = try LLMPerfProcess.run(
            [
                "calibrate", "--scale", "0.1", "--tokens", "16", "--bias-concurrency", "2", "--cold-burst", "0",
                "--client-cpus", "\(client)", "--server-cpus", "\(server)", "--json",
            ], timeout: 300)
        #expect(result.status == 0, "stderr:\n\(result.stderr)")
        let json = try Self.object(result.stdout)
        #expect(json["clientCPUs"] as? String == "\(client)", "\(json["clientCPUs"] ?? "none")")
        #expect(json["serverCPUs"] as? String == "\(server)", "\(json["serverCPUs"] ?? "none")")
        try Self.expectWireBias(json, runs: [2], bursts: [])

        let refused = try LLMPerfProcess.run(["calibrate", "--server-cpus", "0-99999"], timeout: 60)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--server-cpus: CPU list '0-99999': CPU 99999 is not on this machine"))
    }

    /// `Cpus_allowed_list` of a `/proc/…/status` file.
    static func allowedCPUs(_ path: String) -> String? {
        guard let status = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        return status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }
            .map { $0.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces) }
    }

    /// `serve --cpus` runs every thread of the server on the CPUs named.
    @Test func serveRunsOnTheCPUsNamed() throws {
        let cpu = try Self.allowedCPUs()[0]
        let (_, server) = try LLMPerfProcess.startServer(["--engine", "synthetic", "--cpus", "\(cpu)"])
        defer { server.stop() }
        let pid = server.process.processIdentifier
        let threads = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        #expect(threads.count > 1, "\(threads)")
        for thread in threads {
            #expect(Self.allowedCPUs("/proc/\(pid)/task/\(thread)/status") == "\(cpu)", "thread \(thread)")
        }
        #expect(server.stderrSoFar.contains("serve: running on CPUs \(cpu)"), "\(server.stderrSoFar)")
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
