import Foundation
import InferenceTestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `--device` through the executable on a tiny model written by the test: `bench-engine` and `serve` on the first
/// Vulkan device (Mesa's lavapipe under `make test`, named by index so that a CPU device is taken), and what a user
/// sees when Vulkan cannot be used: no loader, no device, a value that is not a device.
@Suite(.serialized) struct VulkanDeviceTests {
    static let small = ["--prompt-tokens", "8", "--decode-tokens", "4", "--repetitions", "1"]

    static func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    /// A failure is the device's message on standard error and exit 1: no crash, no stack trace.
    static func expectCleanFailure(_ result: LLMPerfProcess.Result, saying message: String) {
        #expect(result.status == 1, "stderr:\n\(result.stderr)")
        #expect(result.stderr.contains(message), "stderr:\n\(result.stderr)")
        #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("Stack dump"), "\(result.stderr)")
    }

    @Test func benchEngineRunsOnTheDeviceAndNamesIt() throws {
        let model = try TinyModelFactory.path(type: .q8_0)
        defer { try? FileManager.default.removeItem(atPath: model) }
        let result = try LLMPerfProcess.run(
            ["bench-engine", "--device", "vulkan:0", "--model", model] + Self.small + ["--json"], timeout: 300)
        #expect(result.status == 0, "stderr:\n\(result.stderr)")
        let json = try Self.object(result.stdout)
        let device = try #require(json["device"] as? String)
        #expect(device.hasPrefix("vulkan:0 "), "\(device)")
        #expect(json["prompt_tokens"] as? Int == 8 && json["decode_tokens"] as? Int == 4)
        for key in ["prefill_tokens_per_s_best", "decode_tokens_per_s_best", "device_decode_us_per_token"] {
            #expect((json[key] as? Double).map { $0 > 0 && $0.isFinite } == true, "\(key): \(json[key] ?? "none")")
        }
        let share = try #require(json["device_decode_share"] as? Double)
        #expect(share > 0 && share <= 1)

        let text = try LLMPerfProcess.run(
            ["bench-engine", "--device", "vulkan:0", "--model", model] + Self.small, timeout: 300)
        #expect(text.status == 0, "stderr:\n\(text.stderr)")
        #expect(text.stdout.contains("device   \(device): "), "\(text.stdout)")
    }

    /// `auto` takes a GPU when one can be used, else the CPU: lavapipe alone (a CPU device) is not taken unless
    /// allowed, and with no loader at all `auto` still runs, on the CPU.
    @Test func autoTakesAUsableGPUElseTheCPU() throws {
        let model = try TinyModelFactory.path(type: .q8_0)
        defer { try? FileManager.default.removeItem(atPath: model) }
        func device(_ environment: [String: String]) throws -> String {
            let result = try LLMPerfProcess.run(
                ["bench-engine", "--device", "auto", "--model", model] + Self.small + ["--json"],
                environment: environment, timeout: 300)
            #expect(result.status == 0, "stderr:\n\(result.stderr)")
            return try #require(try Self.object(result.stdout)["device"] as? String)
        }
        #expect(try device(["LLMPERF_VULKAN_LOADER": "/nonexistent/libvulkan.so.1"]) == "cpu")
        let listed = try LLMPerfProcess.run(["bench-engine", "--device", "vulkan", "--model", model] + Self.small)
        if listed.stderr.contains("is a CPU device") {
            // Only a CPU device here (lavapipe under make test): auto is the CPU unless the CPU device is allowed.
            #expect(try device([:]) == "cpu")
            #expect(try device(["LLMPERF_VULKAN_ALLOW_CPU": "1"]).hasPrefix("vulkan:"))
        } else {
            #expect(try device([:]).hasPrefix("vulkan:"), "a GPU is present: \(listed.stdout)")
        }
    }

    @Test func withoutALoaderTheCommandsSaySoAndExit1() throws {
        let model = try TinyModelFactory.path(type: .q8_0)
        defer { try? FileManager.default.removeItem(atPath: model) }
        let environment = ["LLMPERF_VULKAN_LOADER": "/nonexistent/libvulkan.so.1"]
        let bench = try LLMPerfProcess.run(
            ["bench-engine", "--device", "vulkan", "--model", model] + Self.small, environment: environment,
            timeout: 120)
        Self.expectCleanFailure(bench, saying: "no Vulkan loader")
        #expect(bench.stderr.contains("--device cpu"), "\(bench.stderr)")
        let serve = try LLMPerfProcess.run(
            ["serve", "--device", "vulkan", "--model", model, "--port", "0"], environment: environment, timeout: 120)
        Self.expectCleanFailure(serve, saying: "no Vulkan loader")
    }

    /// A device lost mid-run (`LLMPERF_VULKAN_FAIL_PASS` fails the Nth forward pass as `VK_ERROR_DEVICE_LOST`) ends
    /// `bench-engine` with the device's name and the failure, exit 1, whether it strikes a timed decode or the
    /// batched decode; a value that is not a pass number is refused before anything runs.
    @Test func aDeviceLostMidRunEndsBenchEngineWithTheFailure() throws {
        let model = try TinyModelFactory.path(type: .q8_0)
        defer { try? FileManager.default.removeItem(atPath: model) }
        // Pass 1 is the prompt's, 2–5 the four decode steps; with --batch-sizes 2, 6 and 7 prefill its sequences.
        for pass in [3, 7] {
            let result = try LLMPerfProcess.run(
                ["bench-engine", "--device", "vulkan:0", "--model", model, "--batch-sizes", "2"] + Self.small,
                environment: ["LLMPERF_VULKAN_FAIL_PASS": "\(pass)"], timeout: 300)
            Self.expectCleanFailure(result, saying: "bench-engine: the forward pass failed on vulkan:0 ")
            #expect(
                result.stderr.contains(
                    "vkQueueSubmit (injected by LLMPERF_VULKAN_FAIL_PASS=\(pass)) failed (VkResult -4)"),
                "\(result.stderr)")
            #expect(result.stdout.isEmpty, "\(result.stdout)")
        }
        let refused = try LLMPerfProcess.run(
            ["bench-engine", "--device", "vulkan:0", "--model", model] + Self.small,
            environment: ["LLMPERF_VULKAN_FAIL_PASS": "zero"], timeout: 120)
        Self.expectCleanFailure(
            refused,
            saying: "LLMPERF_VULKAN_FAIL_PASS must be a positive integer (the forward pass to fail, from 1), got 'zero'"
        )
    }

    @Test func withoutADeviceBenchEngineSaysSoAndExits1() throws {
        let model = try TinyModelFactory.path(type: .q8_0)
        defer { try? FileManager.default.removeItem(atPath: model) }
        // The loader finds no driver at all.
        let result = try LLMPerfProcess.run(
            ["bench-engine", "--device", "vulkan", "--model", model] + Self.small,
            environment: ["VK_ICD_FILENAMES": "/nonexistent"], timeout: 120)
        #expect(result.status == 1, "stderr:\n\(result.stderr)")
        // The loader either lists no device or refuses the instance for want of a driver: both say there is none.
        #expect(result.stderr.contains("no Vulkan device found"), "\(result.stderr)")
        #expect(!result.stderr.contains("Fatal error"), "\(result.stderr)")
    }

    @Test func serveStreamsFromTheDeviceAndItsMetricsNameIt() async throws {
        let model = try TinyModelFactory.path(type: .q8_0)
        defer { try? FileManager.default.removeItem(atPath: model) }
        let server = try LLMPerfProcess.start(
            ["serve", "--device", "vulkan:0", "--model", model, "--port", "0", "--threads", "1"])
        defer { server.stop() }
        var base: String?
        var device: String?
        for _ in 0..<1200 where base == nil || device == nil {
            let lines = server.stdoutSoFar.split(separator: "\n")
            if let line = lines.first(where: { $0.hasPrefix("listening on ") }) {
                base = String(line.dropFirst("listening on ".count))
            }
            if let line = lines.first(where: { $0.hasPrefix("model ") && $0.contains(" loaded on ") }),
                let range = line.range(of: " loaded on ")
            {
                device = String(line[range.upperBound...])
            }
            if !server.process.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let url = try #require(base, "serve did not start: \(server.stderrSoFar)")
        // The startup lines name the device the model was loaded on.
        let loadedOn = try #require(device, "no 'loaded on' line: \(server.stdoutSoFar)\n\(server.stderrSoFar)")
        #expect(loadedOn.hasPrefix("vulkan:0 "), "\(loadedOn)")

        var request = URLRequest(url: URL(string: url + "/v1/completions")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.timeoutInterval = 120
        request.httpBody = try JSONSerialization.data(withJSONObject: [
            "model": model, "prompt": "hello world", "max_tokens": 4, "temperature": 0, "stream": true,
            "ignore_eos": true,
        ])
        let (data, response) = try await URLSession.shared.data(for: request)
        let body = String(decoding: data, as: UTF8.self)
        #expect((response as? HTTPURLResponse)?.statusCode == 200, "\(body)")
        let events = body.components(separatedBy: "\n\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { $0.hasPrefix("data: ") }
        #expect(events.last == "data: [DONE]", "\(body)")
        // Four tokens, each in its own event, then the finish.
        #expect(events.filter { $0.contains("\"finish_reason\":null") }.count == 4, "\(body)")

        let (metricsData, _) = try await URLSession.shared.data(from: URL(string: url + "/metrics")!)
        let metrics = String(decoding: metricsData, as: UTF8.self)
        #expect(metrics.contains("# TYPE llmperf_engine_device_info gauge\n"), "\(metrics)")
        #expect(metrics.contains("llmperf_engine_device_info{device=\"\(loadedOn)\"} 1\n"), "\(metrics)")
    }

    @Test func aValueThatIsNotADeviceIsRefusedWithTheAcceptedOnes() throws {
        for command in [["bench-engine"], ["serve", "--model", "default"], ["lab"]] {
            let result = try LLMPerfProcess.run(command + ["--device", "bogus"], timeout: 60)
            #expect(result.status == 2, "\(command): \(result.stderr)")
            #expect(
                result.stderr.contains("The value 'bogus' is invalid for '--device <device>'"), "\(result.stderr)")
            #expect(result.stderr.contains("'cpu', 'vulkan', 'vulkan:N' or 'auto'"), "\(result.stderr)")
        }
        let synthetic = try LLMPerfProcess.run(["serve", "--engine", "synthetic", "--device", "vulkan"], timeout: 60)
        #expect(synthetic.status == 2)
        #expect(synthetic.stderr.contains("--device applies to the transformer engine, not synthetic"))
    }
}
