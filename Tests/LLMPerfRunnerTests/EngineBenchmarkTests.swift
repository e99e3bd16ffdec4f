import Foundation
import InferenceEngine
import InferenceTestSupport
import Testing

@testable import LLMPerfRunner

/// Peak RSS that cannot be read is "unavailable", never a made-up 0.0 MB.
@Suite struct PeakMemoryTests {
    @Test func vmHWMIsReadFromProcStatus() {
        let status = "Name:\tllmperf\nVmPeak:\t  900000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40000 kB\n"
        #expect(EngineBenchmark.peakResidentBytes(procStatus: status) == 51_200 * 1024)
    }

    @Test func anUnreadableStatusIsNilNotZero() {
        #expect(EngineBenchmark.peakResidentBytes(procStatus: nil) == nil)
        #expect(EngineBenchmark.peakResidentBytes(procStatus: "Name:\tllmperf\n") == nil)
        #expect(EngineBenchmark.peakResidentBytes(procStatus: "VmHWM:\t lots\n") == nil)
    }

    @Test func theTextSaysUnavailable() {
        var result = EngineBenchmarkResult(
            modelName: "m", weightFormat: .native, matrixTypes: [], threads: 1, promptTokens: 1, decodeTokens: 1,
            loadSeconds: 0, prefillTokensPerSecond: 0, decodeTokensPerSecond: 0, prefillTokensPerSecondMedian: 0,
            decodeTokensPerSecondMedian: 0, peakResidentBytes: nil, memoryBandwidthGBps: 0)
        #expect(result.peakResidentText == "unavailable")
        result.peakResidentBytes = 12_345_678
        #expect(result.peakResidentText == "12.3 MB")
    }

    @Test func thisProcessHasAPeak() throws {
        let bytes = try #require(EngineBenchmark.peakResidentBytes())
        #expect(bytes > 1_000_000)
    }
}

/// `bench-engine --profile`: one more decode pass with every backend operation timed, per token.
@Suite struct EngineProfileTests {
    @Test func theProfileCountsEachOperationOfADecodeStep() throws {
        let path = try TinyModelFactory.path(type: .q4_1, tiedOutput: false)
        let result = try EngineBenchmark.run(
            modelPath: path, threads: 2, promptTokens: 8, decodeTokens: 4, repetitions: 1, profile: true)
        let profile = try #require(result.profile)
        let layers = Double(TinyModelFactory.layers)
        var calls: [String: Double] = [:]
        for row in profile.rows { calls[row.name] = row.calls }
        // Decode steps only (the prompt's pass is not counted): one token a step, so calls per token are calls per
        // step.
        #expect(
            calls == [
                "matmul attn_q+attn_k+attn_v (Q4_1)": layers, "matmul attn_output (Q4_1)": layers,
                "matmul ffn_gate+ffn_up (Q4_1)": layers, "matmul ffn_down (Q4_1)": layers, "matmul output (Q4_1)": 1,
                "attention": layers, "rope": 2 * layers, "rms_norm": 2 * layers + 1, "swiglu": layers,
                "residual add": 2 * layers,
            ])
        #expect(profile.rows.map(\.microseconds) == profile.rows.map(\.microseconds).sorted(by: >))
        #expect(profile.rows.allSatisfy { $0.microseconds > 0 })
        #expect(profile.otherMicroseconds >= 0 && profile.otherMicroseconds < profile.stepMicroseconds)
        #expect(profile.poolHandOffs == 5 * layers + 1)
        #expect(profile.samplingMicroseconds > 0 && profile.poolHandOffMicroseconds > 0)
        #expect(result.text.contains("decode profile (per token"))
        #expect(result.text.contains("matmul ffn_gate+ffn_up (Q4_1)"))
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(result.json().utf8)) as? [String: Any])
        let operations = try #require((json["profile"] as? [String: Any])?["operations"] as? [[String: Any]])
        #expect(operations.count == profile.rows.count)
    }

    @Test func withoutTheFlagThereIsNoProfile() throws {
        let path = try TinyModelFactory.path(type: .q8_0)
        let result = try EngineBenchmark.run(
            modelPath: path, threads: 1, promptTokens: 4, decodeTokens: 2, repetitions: 1)
        #expect(result.profile == nil)
        #expect(!result.text.contains("decode profile"))
    }
}

/// `bench-engine --batch-sizes`: B sequences decoded together, after their prefills.
@Suite struct BatchDecodeBenchmarkTests {
    @Test func eachSizeDecodesEverySequenceAndIsReported() throws {
        let path = try TinyModelFactory.path(type: .q8_0)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try EngineBenchmark.run(
            modelPath: path, threads: 1, promptTokens: 6, decodeTokens: 3, repetitions: 1, batchSizes: [1, 4])
        #expect(result.device == "cpu" && result.deviceDecodeMicroseconds == nil && result.deviceProfile == nil)
        #expect(result.batchDecode.map(\.batchSize) == [1, 4])
        // Each sequence's first token comes from its prefill; the batched decode makes the other `decodeTokens`.
        #expect(result.batchDecode.map(\.tokens) == [3, 12])
        #expect(result.batchDecode.allSatisfy { $0.seconds > 0 && $0.tokensPerSecond.isFinite })
        #expect(result.text.contains("batch    4 ×    3 tokens:"))
        #expect(!result.text.contains("device "))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.json().utf8)) as? [String: Any])
        #expect(json["device"] as? String == "cpu")
        #expect(json["device_decode_us_per_token"] is NSNull)
        let batches = try #require(json["batch_decode"] as? [[String: Any]])
        #expect(batches.map { $0["batch_size"] as? Int } == [1, 4])
        #expect(batches.map { $0["decode_tokens"] as? Int } == [3, 12])
        #expect(batches.allSatisfy { ($0["decode_tokens_per_s"] as? Double).map { $0 > 0 } == true })
    }

    @Test func withoutSizesThereAreNoBatches() throws {
        let path = try TinyModelFactory.path(type: .q8_0)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try EngineBenchmark.run(
            modelPath: path, threads: 1, promptTokens: 4, decodeTokens: 2, repetitions: 1)
        #expect(result.batchDecode.isEmpty)
        #expect(!result.text.contains("batch "))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.json().utf8)) as? [String: Any])
        #expect((json["batch_decode"] as? [Any])?.isEmpty == true)
    }
}

/// `bench-engine --device vulkan:0` in-process, on the first Vulkan device (Mesa's lavapipe under `make test`,
/// named by index so a CPU device is accepted).
@Suite(.serialized) struct VulkanEngineBenchmarkTests {
    @Test func theDeviceTimeAndTheKernelProfileAreReported() throws {
        let path = try TinyModelFactory.path(type: .q8_0)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try EngineBenchmark.run(
            modelPath: path, threads: 1, promptTokens: 6, decodeTokens: 3, repetitions: 2, profile: true,
            device: .vulkan(index: 0), batchSizes: [3])
        #expect(result.device.hasPrefix("vulkan:0 "), "\(result.device)")
        // The CPU's operation profile wraps the CPU backend, which a Vulkan device does not run.
        #expect(result.profile == nil)
        let us = try #require(result.deviceDecodeMicroseconds)
        let share = try #require(result.deviceDecodeShare)
        #expect(us > 0 && share > 0 && share <= 1, "\(us) µs, share \(share)")
        let profile = try #require(result.deviceProfile)
        let dispatches = Dictionary(uniqueKeysWithValues: profile.kernels.map { ($0.name, $0.dispatches) })
        let layers = Double(TinyModelFactory.layers)
        // One pass a token: per layer one rotation, one attention and four products (query/key/value stacked, output,
        // gate/up stacked, down; the norms, SwiGLU and residual adds fold into them), then the gather and the logits.
        #expect(dispatches["attention"] == layers && dispatches["rope"] == layers, "\(dispatches)")
        #expect(dispatches["matmul_q8_0"] == 4 * layers + 1 && dispatches["gather"] == 1, "\(dispatches)")
        #expect(dispatches.count == 4, "\(dispatches)")
        #expect(profile.kernels.map(\.microseconds) == profile.kernels.map(\.microseconds).sorted(by: >))
        #expect(profile.kernels.allSatisfy { $0.microseconds > 0 })
        #expect(profile.deviceMicroseconds > 0 && profile.stepMicroseconds > 0)
        #expect(result.batchDecode.map(\.tokens) == [9])
        let text = result.text
        #expect(text.contains("device   \(result.device): "), "\(text)")
        #expect(text.contains("of the step"))
        #expect(text.contains("device profile (per token"))
        #expect(!text.contains("decode profile (per token"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.json().utf8)) as? [String: Any])
        #expect(json["device"] as? String == result.device)
        // The JSON writer keeps 16 significant digits: the same value to within its last place.
        let written = try #require(json["device_decode_us_per_token"] as? Double)
        #expect(abs(written - us) <= 1e-12 * us, "\(written) against \(us)")
        let kernels = try #require((json["device_profile"] as? [String: Any])?["kernels"] as? [[String: Any]])
        #expect(kernels.count == profile.kernels.count)
        #expect(json["profile"] is NSNull)
    }
}
