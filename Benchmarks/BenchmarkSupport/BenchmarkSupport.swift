import Benchmark
import Foundation
import LLMPerfCore

/// What every suite measures and how far a run may drift from the committed thresholds
/// (`Thresholds/`, checked by `make bench-check`) before it counts as a regression.
public enum BenchmarkSupport {
    /// Wall clock and mallocs always; instructions where the kernel offers hardware counters
    /// (Linux without a PMU, as on most virtual machines, has none: the metric would read 0).
    public static var metrics: [BenchmarkMetric] {
        var metrics: [BenchmarkMetric] = [.wallClock, .mallocCountTotal]
        if hardwareCountersAvailable { metrics.append(.instructions) }
        return metrics
    }

    /// The tolerances at p90 against the committed value. Wall clock is wide (+150%, i.e. up to
    /// 2.5 times the committed p90): the reference machine has 2 cores shared with builds, and a
    /// busy neighbour doubles a run's time. Mallocs and instructions count the code's own work and
    /// are tight: ±10%, or, for a benchmark that allocates a handful of times (`mallocSlack`), that
    /// many mallocs either way (a relative bound on 0 allows nothing and on 4 allows nothing useful).
    public static func thresholds(mallocSlack: Int? = nil) -> [BenchmarkMetric: BenchmarkThresholds] {
        let mallocs =
            mallocSlack.map { BenchmarkThresholds(absolute: [.p90: $0]) } ?? BenchmarkThresholds(relative: [.p90: 10])
        let all: [BenchmarkMetric: BenchmarkThresholds] = [
            .wallClock: BenchmarkThresholds(relative: [.p90: 150]),
            .mallocCountTotal: mallocs,
            .instructions: BenchmarkThresholds(relative: [.p90: 10]),
        ]
        return all.filter { metrics.contains($0.key) }
    }

    /// The configuration of a benchmark that runs `maxIterations` times at most, within
    /// `maxDuration`, after one warm-up iteration; `mallocSlack` as in `thresholds`.
    public static func configuration(
        maxIterations: Int, maxDuration: Duration = .seconds(3), mallocSlack: Int? = nil
    ) -> Benchmark.Configuration {
        Benchmark.Configuration(
            metrics: metrics, timeUnits: .automatic, warmupIterations: 1, maxDuration: maxDuration,
            maxIterations: maxIterations, thresholds: thresholds(mallocSlack: mallocSlack))
    }

    /// True when hardware performance counters can be opened: always on Darwin; on Linux when
    /// the kernel lists a CPU PMU under `/sys/bus/event_source/devices`.
    public static var hardwareCountersAvailable: Bool {
        #if os(Linux)
            let devices = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/bus/event_source/devices")) ?? []
            return devices.contains { $0 == "cpu" || $0.hasPrefix("cpu_") || $0.hasPrefix("armv8") }
        #else
            return true
        #endif
    }

    /// Prints why a benchmark is not registered, on standard error (the table is on standard output).
    public static func skip(_ name: String, because reason: String) {
        FileHandle.standardError.write(Data("skipped \(name): \(reason)\n".utf8))
    }
}

extension ScenarioRandom {
    /// A value in `0..<bound`: the suites draw their recordings from Core's seeded SplitMix64, so
    /// every recording is the same bytes on every run and machine.
    public mutating func below(_ bound: Int) -> Int { Int(next(below: UInt64(bound))) }
}

/// `count` successful streamed requests with 64 content chunks each and plausible timings (TTFT
/// 40–60 ms plus `shift`, 8–12 ms between chunks), the same for the same seed.
public func makeTraces(count: Int, seed: UInt64, shift: UInt64 = 0) -> [RequestTrace] {
    var random = ScenarioRandom(seed: seed)
    return (0..<count).map { i in
        let start = UInt64(i) * 2_000_000
        let firstByte = start + 40_000_000 + shift + UInt64(random.below(20_000_000))
        var chunks: [UInt64] = []
        chunks.reserveCapacity(64)
        var t = firstByte
        for _ in 0..<64 {
            t += 8_000_000 + UInt64(random.below(4_000_000))
            chunks.append(t)
        }
        return RequestTrace(
            index: i, isWarmup: i < 5, promptIndex: i % 16, startedAtNanos: start, dnsNanos: 20_000,
            connectNanos: 90_000, sentNanos: 120_000, firstByteNanos: firstByte - start, chunkAtNanos: chunks,
            chunkTokens: Array(repeating: 1, count: 64), endedAtNanos: t + 1_000_000,
            usage: TokenUsage(promptTokens: 37, completionTokens: 64), outcome: .ok,
            connection: ConnectionInfo(reused: i > 3, httpVersion: "1.1", remoteAddress: "127.0.0.1:8080"),
            httpStatus: 200, outputText: "The capital of France is Paris. " + String(repeating: "word ", count: 40))
    }
}
