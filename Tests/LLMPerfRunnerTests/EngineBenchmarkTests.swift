import InferenceEngine
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
