import Foundation
import LLMPerfCore
import LLMPerfReport

/// Deterministic runs for the report tests: seeded, fixed dates, no wall clock. Texts carry
/// every character that needs escaping somewhere (commas, quotes, line breaks, markup).
enum ReportFixtures {
    static let hostileOutput = "<script>alert(1)</script> & \"quoted\", 'single'\nsecond line"
    static let hostileDetail = "upstream said \"no\", retry later\r\nbody: <b>oops</b>"

    /// SplitMix64, so fixtures never depend on another module's generator.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        /// Uniform in [0, 1).
        mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
        mutating func int(_ range: ClosedRange<Int>) -> Int {
            range.lowerBound + Int(next() % UInt64(range.count))
        }
    }

    static func info(id: String, name: String, variant: String? = nil, openLoop: Bool) -> RunInfo {
        RunInfo(
            id: id, name: name, variant: variant, batchID: "b0001", labels: ["ci", "pr-42"], status: .completed,
            scenarioYAML: """
                version: 1
                name: \(name)
                target:
                  url: http://127.0.0.1:8080/v1
                  headers:
                    Authorization: "<redacted>"
                workload:
                  prompts: ["Say <hi> & \\"bye\\""]
                load: \(openLoop ? "{open: poisson, rate: 4}" : "{concurrency: 2, requests: 20}")
                """,
            scenarioHash: "3f2a9c", scenarioPath: "scenarios/\(name).yml", targetURL: "http://127.0.0.1:8080/v1",
            api: "openai-chat", model: "tiny-llama",
            loadDescription: openLoop ? "open poisson 4/s n=20" : "closed c=2 n=20",
            maxTokens: 32, promptSetHash: "9d1e", toolVersion: "0.0.0-test", host: "ci-host", gitCommit: "abc1234",
            startedAt: Date(timeIntervalSince1970: 1_764_000_000), endedAt: Date(timeIntervalSince1970: 1_764_000_012))
    }

    /// `count` requests (the first two warmup) with TTFT around `ttftMillis` and `gapMillis`
    /// between tokens; a few fail in different ways.
    static func traces(seed: UInt64, count: Int, ttftMillis: Double, gapMillis: Double, openLoop: Bool)
        -> [RequestTrace]
    {
        var random = Random(state: seed)
        var traces: [RequestTrace] = []
        var clock: UInt64 = 10_000_000
        for index in 0..<count {
            let start = clock + UInt64(random.int(0...2_000_000))
            let scheduled: UInt64? = openLoop ? start - UInt64(random.int(0...3_000_000)) : nil
            let fresh = index == 0 || index == 2
            let dns: UInt64 = fresh ? 1_200_000 : 0
            let connect: UInt64 = fresh ? 2_500_000 : 0
            let tls: UInt64 = fresh ? 9_000_000 : 0
            let ttft = UInt64((ttftMillis * (0.8 + 0.4 * random.unit())) * 1e6) + tls
            let firstByte = ttft - 3_000_000
            let tokens = random.int(8...16)
            var chunks: [UInt64] = []
            var at = start + ttft
            for _ in 0..<tokens {
                chunks.append(at)
                at += UInt64((gapMillis * (0.7 + 0.6 * random.unit())) * 1e6)
            }
            var outcome = RequestOutcome.ok
            var status = 200
            var output = "Answer \(index): the quick brown fox"
            var usage: TokenUsage? = TokenUsage(
                promptTokens: 21, completionTokens: tokens, cachedTokens: index % 3 == 0 ? 16 : nil)
            if index == 5 {
                output = hostileOutput
            }
            if index == 7 {
                outcome = .failed(.http(status: 500), detail: hostileDetail)
                status = 500
                chunks = []
                usage = nil
                output = ""
            } else if index == 11 {
                outcome = .failed(.timeout(.firstToken), detail: "no token within 2 s")
                chunks = []
                usage = nil
                output = ""
            } else if index == 13 && openLoop {
                outcome = .failed(.streamCut, detail: "connection reset by peer")
                chunks = Array(chunks.prefix(3))
                usage = nil
            } else if index == 9 {
                usage = nil  // counted from chunks
            }
            let end = (chunks.last ?? (start + firstByte)) + 400_000
            traces.append(
                RequestTrace(
                    index: index, isWarmup: index < 2, promptIndex: index % 3, scheduledAtNanos: scheduled,
                    startedAtNanos: start, dnsNanos: dns, connectNanos: connect, tlsNanos: tls,
                    sentNanos: tls + 200_000, firstByteNanos: firstByte, chunkAtNanos: chunks,
                    chunkTokens: chunks.map { _ in 1 }, endedAtNanos: end, usage: usage, outcome: outcome,
                    connection: ConnectionInfo(reused: !fresh, httpVersion: "1.1", remoteAddress: "127.0.0.1:8080"),
                    httpStatus: status, outputText: output))
            clock = start + UInt64(250_000_000)
        }
        return traces
    }

    static let baselineTraces = traces(seed: 7, count: 24, ttftMillis: 120, gapMillis: 20, openLoop: false)
    static let candidateTraces = traces(seed: 11, count: 24, ttftMillis: 80, gapMillis: 19, openLoop: true)

    static var baseline: ReportRun {
        ReportRun(info: info(id: "r0a1b2c", name: "chat", variant: "base", openLoop: false), traces: baselineTraces)
    }

    static var candidate: ReportRun {
        ReportRun(
            info: info(id: "r9f8e7d", name: "chat", variant: "tuned, \"fast\"", openLoop: true), traces: candidateTraces
        )
    }

    static func comparison() throws -> RunComparison {
        try RunComparison(
            runs: [
                ComparisonInput(label: baseline.info.displayName, traces: baselineTraces),
                ComparisonInput(label: candidate.info.displayName, traces: candidateTraces),
            ],
            options: RunComparison.Options(bootstrapResamples: 200, seed: 3))
    }

    static func gate() throws -> GateEvaluation {
        let rules = try ["ttft.p95 < 100ms", "error_rate < 10%", "e2e.p50 < 1s", "ttft.p50: +10%"].map {
            try GateRule.parse($0)
        }
        return GateEvaluation(rules: rules, run: candidateTraces, baseline: baselineTraces)
    }

    static func twoRunInput() throws -> ReportInput {
        ReportInput(runs: [baseline, candidate], comparison: try comparison(), gate: try gate())
    }

    /// `count` runs (up to 8) with different speeds.
    static func manyRuns(_ count: Int) -> [ReportRun] {
        (0..<count).map { i in
            let step = Double(i)
            let traces = traces(
                seed: UInt64(100 + i), count: 30, ttftMillis: 60 + 15 * step, gapMillis: 10 + step, openLoop: i % 2 == 1
            )
            let info = info(id: "r\(i)000000", name: "sweep", variant: "v\(i) <b>", openLoop: i % 2 == 1)
            return ReportRun(info: info, traces: traces)
        }
    }
}
