import Foundation
import LLMPerfCore
import LLMPerfReport
import Testing

@testable import LLMPerfRunner

/// Calibration over fakes: the bias server's trace (written by the fake backend when stopped)
/// is matched to the client's requests by `x-request-id`, warmup left out, and the throughput
/// steps are computed from their summaries.
@Suite struct CalibrationTests {
    /// The fake server "sent" each token 2 ms before the fake client received it, and saw each
    /// request arrive 1 ms after the client started it: a client TTFT of 10 ms is 3 ms more
    /// than the server's 7 ms.
    static func serverTrace(for sent: [SentOrder], clientOrigin: UInt64, tokens: Int) -> String {
        var lines = ["# request_id\tindex\tns\tkind"]
        for entry in sent {
            guard let prefix = entry.requestIDPrefix else { continue }
            let trace = FakeTransport.trace(entry.order, ttftMillis: 10, tokens: tokens)
            let id = "\(prefix)-\(entry.order.index)"
            lines.append("\(id)\t-1\t\(clientOrigin + trace.startedAtNanos + 1_000_000)\tarrival")
            for (i, chunk) in trace.chunkAtNanos.enumerated() {
                lines.append("\(id)\t\(i)\t\(clientOrigin + chunk - 2_000_000)\t\(i == 0 ? "first_token" : "token")")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func biasIsMatchedByRequestIDAndLeavesWarmupOut() async throws {
        let log = SendLog()
        let launcher = FakeLauncher()
        let clock = ManualClock(startNanos: 5_000_000_000)
        launcher.serverTrace = { Self.serverTrace(for: log.all, clientOrigin: 5_000_000_000, tokens: 4) }
        let calibration = Calibration(
            tokens: 8, scale: 0.1, biasConcurrency: [2, 3], coldBurst: [4, 0],
            makeTransport: FakeTransport.factory(log: log),
            launcher: launcher, clock: clock)
        let result = try await calibration.run()

        // Concurrency 2 and 3: 10 × concurrency × scale measured requests, after one warmup per stream.
        #expect(result.biasRuns.map(\.concurrency) == [2, 3])
        #expect(result.biasRuns.map(\.requests) == [2, 3])
        #expect(result.biasRuns.map(\.bias.matchedRequests) == [2, 3])
        #expect(result.coldBursts.map(\.concurrency) == [4])
        #expect(result.coldBursts.map(\.bias.matchedRequests) == [4])
        #expect(result.biasConcurrency == 3)
        let bias = result.bias
        #expect(bias.ttftBias?.p50 == 3)
        #expect(bias.requestDelay?.p50 == 1 - 0.1)
        #expect(bias.deliveryDelay?.p50 == 2)
        #expect(bias.itlBias?.p50 == 0)
        // Each measurement has its own id prefix; warmup requests carry it too but are not matched.
        let prefixes = Set(log.all.compactMap(\.requestIDPrefix))
        #expect(prefixes == ["calibrate-c2-0", "calibrate-c3-1", "calibrate-burst4-0"])
        let warmups = log.all.filter { $0.order.isWarmup }
        #expect(warmups.count == 2 + 3)

        // Three servers: the traced one, then the fast and the slow one.
        #expect(launcher.started.map { $0.options.first { $0.key == "itl-ms" }?.value } == ["2", "0", "20"])
        #expect(launcher.stopped == 3)
        #expect(result.throughput.map(\.concurrency) == [1, 64, 256])
        #expect(result.throughput.map(\.requests) == [10, 128, 256])
        #expect(result.throughput.allSatisfy { $0.errors == 0 })
        #expect(result.concurrentStreams.concurrency == 1_000 && result.concurrentStreams.requests == 1_000)
    }

    @Test func aStepsCPUShareIsCPUTimeOverWallTime() {
        let traces = (0..<4).map {
            FakeTransport.trace(RequestOrder(index: $0, isWarmup: false, promptIndex: 0), ttftMillis: 1, tokens: 2)
        }
        let summary = RunSummary(traces: traces)
        let step = Calibration.throughputStep(
            concurrency: 2, requests: 4, summary: summary, wallSeconds: 2, cpuSeconds: 0.5, peakRSSMegabytes: nil)
        #expect(step.clientCPUPercent == 25)
        #expect(step.requestsPerSecond == summary.requestsPerSecond)
        #expect(step.peakRSSMegabytes == nil)
        let instant = Calibration.throughputStep(
            concurrency: 1, requests: 4, summary: summary, wallSeconds: 0, cpuSeconds: 1, peakRSSMegabytes: 50)
        #expect(instant.clientCPUPercent == 0)
    }

    @Test func aServerTraceThatCannotBeReadIsARuntimeFailure() async throws {
        let launcher = FakeLauncher()
        launcher.serverTrace = { "not a trace line\n" }
        let calibration = Calibration(
            tokens: 8, scale: 0.1, biasConcurrency: [1], coldBurst: [],
            makeTransport: FakeTransport.factory(log: SendLog()),
            launcher: launcher, clock: ManualClock())
        await #expect(throws: CLIError.self) { _ = try await calibration.run() }
    }
}
