import Foundation
import LLMPerfCore
import Testing

@testable import LLMPerfRunner

/// Parallel run loading, the gate's rule selection, and the live progress counters.
@Suite struct StoredRunAndGateTests {
    /// A repository holding runs r1…r3 with 3, 5 and 7 requests.
    static func repository() throws -> FakeRepository {
        let repository = FakeRepository()
        for (n, count) in [3, 5, 7].enumerated() {
            let id = try repository.newRunID()
            try repository.createRun(RunInfo(id: id, name: "run\(n)", batchID: "b", startedAt: Date()))
            let sink = repository.traceSink(runID: id) {}
            for index in 0..<count {
                sink.append(
                    FakeTransport.trace(
                        RequestOrder(index: index, isWarmup: false, promptIndex: 0), ttftMillis: 10, tokens: 2))
            }
        }
        return repository
    }

    @Test func runsLoadInParallelAndComeBackInTheOrderAsked() throws {
        let runs = try StoredRun.loadAll(["r3", "r1", "r2"], from: try Self.repository())
        #expect(runs.map(\.info.id) == ["r3", "r1", "r2"])
        #expect(runs.map(\.traces.count) == [7, 3, 5])
        #expect(runs.map(\.summary.requests) == [7, 3, 5])
        #expect(runs[0].comparisonLabel == "run2 (r3)")
    }

    @Test func aBadReferenceIsInvalidInputBeforeAnythingLoads() throws {
        let error = #expect(throws: CLIError.self) {
            _ = try StoredRun.loadAll(["r1", "nope"], from: try Self.repository())
        }
        #expect(error?.code == .invalidInput)
        #expect(error?.message == "no run nope")
    }

    static func run(slo: [SLOThreshold] = []) -> RunInfo {
        RunInfo(id: "r1", name: "chat", batchID: "b", slo: slo, startedAt: Date())
    }

    static func check(rules: [String] = [], baseline: String? = nil, maxRegressions: [String] = [], noSlo: Bool = false)
        -> GateCheck
    {
        GateCheck(
            rules: rules, baseline: baseline, maxRegressions: maxRegressions, noSlo: noSlo, alpha: 0.05, junit: nil,
            markdown: nil)
    }

    @Test func theGateTakesTheSLOsThenTheRulesThenTheRegressionLimits() throws {
        let slo = SLOThreshold(key: "ttft.p95", metric: .ttft, statistic: "p95", limit: 500, isUpperBound: true)
        let rules = try Self.check(rules: ["error_rate < 1%"], baseline: "r0", maxRegressions: ["ttft.p95=10%"])
            .rules(for: Self.run(slo: [slo]))
        #expect(rules.map(\.text) == ["ttft.p95 <= 500ms", "error_rate < 1%", "ttft.p95=10%"])
        let withoutSLO = try Self.check(rules: ["error_rate < 1%"], noSlo: true).rules(for: Self.run(slo: [slo]))
        #expect(withoutSLO.map(\.text) == ["error_rate < 1%"])
    }

    @Test func aGateWithNothingToCheckOrNoBaselineIsInvalidInput() {
        let none = #expect(throws: CLIError.self) { _ = try Self.check().rules(for: Self.run()) }
        #expect(none?.code == .invalidInput)
        #expect(none?.message.hasPrefix("no rules to check: run r1's scenario has no slo section") == true)
        let noBaseline = #expect(throws: CLIError.self) {
            _ = try Self.check(maxRegressions: ["ttft.p95=10%"]).rules(for: Self.run())
        }
        #expect(noBaseline?.message == "regression rules need --baseline REF")
        let unreadable = #expect(throws: CLIError.self) {
            _ = try Self.check(rules: ["ttft.p95 <"]).rules(for: Self.run())
        }
        #expect(unreadable?.code == .invalidInput)
    }

    @Test func progressCountsEveryRequestButTTFTOnlyOfMeasuredSuccesses() {
        let counter = ProgressCounter(total: 4)
        let order = { (index: Int, warmup: Bool) in RequestOrder(index: index, isWarmup: warmup, promptIndex: 0) }
        counter.record(FakeTransport.trace(order(0, true), ttftMillis: 900, tokens: 3))
        counter.record(FakeTransport.trace(order(1, true), ttftMillis: 900, tokens: 3))
        counter.record(FakeTransport.trace(order(2, false), ttftMillis: 20, tokens: 3))
        var failed = FakeTransport.trace(order(3, false), ttftMillis: 700, tokens: 1)
        failed.outcome = .failed(.streamCut, detail: "")
        counter.record(failed)
        let snapshot = counter.snapshot(elapsedSeconds: 2)
        #expect(snapshot.done == 4 && snapshot.total == 4 && snapshot.errors == 1)
        #expect(snapshot.outputTokens == 10)
        let p50 = snapshot.ttftP50Milliseconds
        #expect(p50.map { abs($0 - 20) < 0.2 } == true)
    }
}

/// The command-line values Core reads for the executable: `--since` ages and `--min-change` percentages.
@Suite struct CommandLineValueTests {
    @Test func agesTakeSecondsToWeeks() {
        #expect(DurationParser.parseAge("90s") == .seconds(90))
        #expect(DurationParser.parseAge("30m") == .seconds(1_800))
        #expect(DurationParser.parseAge("12h") == .seconds(43_200))
        #expect(DurationParser.parseAge("7d") == .seconds(604_800))
        #expect(DurationParser.parseAge("1.5d") == .seconds(129_600))
        #expect(DurationParser.parseAge("2w") == .seconds(1_209_600))
        for bad in ["2x", "-1d", "d", "7", "", "1.d"] { #expect(DurationParser.parseAge(bad) == nil, "\(bad)") }
    }

    @Test func percentagesAreFractionsBelowOne() {
        #expect(PercentParser.fraction("2%") == 0.02)
        #expect(PercentParser.fraction("0%") == 0)
        #expect(PercentParser.fraction("12.5%") == 0.125)
        for bad in ["100%", "2", "-1%", "%", "two%"] { #expect(PercentParser.fraction(bad) == nil, "\(bad)") }
    }
}
