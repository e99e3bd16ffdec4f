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
