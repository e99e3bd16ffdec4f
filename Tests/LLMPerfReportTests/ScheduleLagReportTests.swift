import Foundation
import LLMPerfCore
import Testing

@testable import LLMPerfReport

/// A replay's schedule lag (started − scheduled of each measured request) in the terminal summary and the JSON,
/// flagged client-bound above 5 ms at p99; nothing of it for other loads.
@Suite struct ScheduleLagReportTests {
    static let ms: UInt64 = 1_000_000

    /// Requests scheduled 10 ms apart and sent `lags` ms late (the first one a warmup request, 50 ms late).
    static func summary(lags: [UInt64]) -> RunSummary {
        let traces = ([50] + lags).enumerated().map { index, lag in
            let scheduled = UInt64(index) * 10 * ms
            return RequestTrace(
                index: index, isWarmup: index == 0, scheduledAtNanos: scheduled,
                startedAtNanos: scheduled + lag * ms / 10,
                chunkAtNanos: [scheduled + 40 * ms], chunkTokens: [1], endedAtNanos: scheduled + 50 * ms)
        }
        return RunSummary(traces: traces)
    }

    static func info(_ load: String) -> RunInfo {
        var info = ReportFixtures.info(id: "r1", name: "replay", openLoop: true)
        info.loadDescription = load
        return info
    }

    @Test func aReplaysLagIsQuantilesOfItsMeasuredRequests() throws {
        // Lags of 0.1 ms to 1.0 ms (tenths), the warmup's 5 ms left out.
        let summary = Self.summary(lags: Array(1...10))
        let lag = try #require(ScheduleLag.of(summary: summary, loadDescription: "replay mooncake x1 n=10"))
        #expect(lag.requests == 10)
        #expect(abs(lag.maxMilliseconds - 1.0) < 1e-9)
        #expect(lag.p50Milliseconds > 0.4 && lag.p50Milliseconds < 0.7)
        #expect(!lag.isClientBound)
        let text = RunSummaryRenderer.render(
            run: Self.info("replay mooncake x1 n=10"), summary: summary, style: TerminalStyle(enabled: false))
        #expect(text.contains("schedule lag (sent − trace time) p50 "))
        #expect(text.contains("max 1 ms over 10 requests"))
        #expect(!text.contains("client-bound"))
        // Other loads have none.
        #expect(ScheduleLag.of(summary: summary, loadDescription: "open poisson 10/s n=10") == nil)
        let open = RunSummaryRenderer.render(
            run: Self.info("open poisson 10/s n=10"), summary: summary, style: TerminalStyle(enabled: false))
        #expect(!open.contains("schedule lag"))
    }

    @Test func aP99Above5msIsClientBound() throws {
        let summary = Self.summary(lags: Array(repeating: 1, count: 90) + Array(repeating: 80, count: 10))
        let lag = try #require(ScheduleLag.of(summary: summary, loadDescription: "replay jsonl x2 n=100"))
        #expect(lag.p99Milliseconds > 5 && lag.isClientBound)
        let text = RunSummaryRenderer.render(
            run: Self.info("replay jsonl x2 n=100"), summary: summary, style: TerminalStyle(enabled: false))
        #expect(text.contains("client-bound replay: schedule lag p99 8 ms is above 5 ms"))
        let json = try #require(
            try JSONSerialization.jsonObject(
                with: Data(try SummaryJSON.encode(run: Self.info("replay jsonl x2 n=100"), summary: summary).utf8))
                as? [String: Any])
        let object = try #require(json["scheduleLag"] as? [String: Any])
        #expect(object["client_bound"] as? Bool == true)
        #expect(object["requests"] as? Int == 100)
        #expect(object["max_ms"] as? Double == 8)
    }
}
