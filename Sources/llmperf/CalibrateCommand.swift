import ArgumentParser
import Foundation
import LLMPerfClient
import LLMPerfCore
import LLMPerfReport

struct CalibrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Measure llmperf's own overhead against the synthetic server.",
        discussion: """
            Starts `llmperf serve --engine synthetic` as a child process and reports (1) the bias of \
            the client's TTFT and ITL against the server's own trace of the same requests, median \
            and p99, at concurrency 8 and 64 (after one warmup request per connection: connection \
            setup is measured as dns/tcp/tls, not counted as bias), and for cold bursts of 64 and 256 \
            requests started at once on fresh connections, without warmup (their TTFT includes the \
            connects; the bias after the connects is shown apart); (2) the highest streamed tokens/s and requests/s the client \
            sustains at concurrency 1, 64 and 256 with the server at ttft=0 itl=0, with the client's \
            CPU use and peak RSS; (3) the peak RSS holding 1,000 concurrent streams.
            """)

    @Option(help: "Output tokens per request in the throughput steps.") var tokens: Int = 512
    @Option(help: "Scale the request counts (1 = default; smaller is quicker and noisier).") var scale: Double = 1
    @Option(
        name: .customLong("bias-concurrency"), parsing: .singleValue,
        help: "Concurrency of a bias measurement (repeat for several).")
    var biasConcurrency: [Int] = [8, 64]
    @Option(
        name: .customLong("cold-burst"), parsing: .singleValue,
        help: "Requests of a cold burst: all started at once on fresh connections (repeat for several; 0: none).")
    var coldBurst: [Int] = [64, 256]
    @Flag(help: "Print the results as JSON.") var json = false

    func validate() throws {
        guard tokens > 1 else { throw ValidationError("--tokens must be > 1") }
        guard scale > 0, scale <= 10 else { throw ValidationError("--scale must be in (0, 10]") }
        guard !biasConcurrency.isEmpty, biasConcurrency.allSatisfy({ (1...1_000).contains($0) }) else {
            throw ValidationError("--bias-concurrency must be 1…1000")
        }
        guard coldBurst.allSatisfy({ (0...1_000).contains($0) }) else {
            throw ValidationError("--cold-burst must be 0…1000")
        }
    }

    struct ThroughputStep: Codable {
        var concurrency: Int
        var requests: Int
        var outputTokensPerSecond: Double
        var requestsPerSecond: Double
        var clientCPUPercent: Double
        /// Nil where /proc cannot be read (printed as unavailable, never as 0).
        var peakRSSMegabytes: Double?
        var errors: Int
    }

    /// One bias measurement: `concurrency` streams (a cold burst: `concurrency` requests at once).
    struct BiasRun: Codable {
        var concurrency: Int
        var requests: Int
        var bias: CalibrationBias
    }

    struct Result: Codable {
        /// The last `--bias-concurrency` and its bias (every one is in `biasRuns`).
        var biasConcurrency: Int
        var bias: CalibrationBias
        var biasRuns: [BiasRun]
        var coldBursts: [BiasRun]
        var throughput: [ThroughputStep]
        var concurrentStreams: ThroughputStep
    }

    func run() async throws {
        let n = { (count: Int) in max(1, Int((Double(count) * scale).rounded())) }
        // 1. Bias against the server's own trace.
        let traceDir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "llmperf-calibrate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: traceDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: traceDir) }
        let tracePath = traceDir.appendingPathComponent("server.trace").path
        let biasServer = try LocalBackend.start(
            LocalBackendSpec(
                engine: "synthetic",
                options: [("ttft-ms", "5"), ("itl-ms", "2"), ("tokens", "64"), ("trace-file", tracePath)]))
        let origin = MonotonicClock.nanos()
        var runs: [(prefix: String, concurrency: Int, traces: [RequestTrace])] = []
        for concurrency in biasConcurrency {
            progress("bias: concurrency \(concurrency) against a server at ttft 5 ms, itl 2 ms…")
            let prefix = "calibrate-c\(concurrency)-\(runs.count)"
            let traces = await measure(
                url: biasServer.apiBaseURL, concurrency: concurrency, requests: n(concurrency * 10), maxTokens: 64,
                origin: origin, requestIDPrefix: prefix, warmup: concurrency  // warmup opens the connections
            ).traces
            runs.append((prefix, concurrency, traces))
        }
        var bursts: [(prefix: String, concurrency: Int, traces: [RequestTrace])] = []
        for size in coldBurst where size > 0 {
            // A driver of its own: its own connection cache, so every connection is new.
            progress("cold burst: \(size) requests at once on fresh connections…")
            let prefix = "calibrate-burst\(size)-\(bursts.count)"
            let traces = await measure(
                url: biasServer.apiBaseURL, concurrency: size, requests: size, maxTokens: 64, origin: origin,
                requestIDPrefix: prefix
            ).traces
            bursts.append((prefix, size, traces))
        }
        biasServer.stop()  // flushes the trace file
        let serverTrace: ServerTrace
        do {
            serverTrace = try ServerTrace(parsing: try String(contentsOfFile: tracePath, encoding: .utf8))
        } catch {
            throw CLIError.failure("cannot read the server trace: \(error)")
        }
        func biasRun(_ run: (prefix: String, concurrency: Int, traces: [RequestTrace])) -> BiasRun {
            BiasRun(
                concurrency: run.concurrency, requests: run.traces.count { !$0.isWarmup },
                bias: CalibrationBias(client: run.traces, server: serverTrace, clientOriginNanos: origin) {
                    "\(run.prefix)-\($0.index)"
                })
        }
        let biasRuns = runs.map(biasRun)
        let burstRuns = bursts.map(biasRun)

        // 2. Throughput ceiling.
        let fast = try LocalBackend.start(
            LocalBackendSpec(
                engine: "synthetic", options: [("ttft-ms", "0"), ("itl-ms", "0"), ("tokens", "\(tokens)")]))
        defer { fast.stop() }
        var steps: [ThroughputStep] = []
        for (concurrency, requests) in [(1, n(100)), (64, n(1_280)), (256, n(2_560))] {
            progress("throughput: concurrency \(concurrency), \(requests) requests of \(tokens) tokens…")
            steps.append(
                await step(url: fast.apiBaseURL, concurrency: concurrency, requests: requests, maxTokens: tokens))
        }
        fast.stop()

        // 3. Memory with 1,000 streams open at once (50 tokens, 20 ms apart: ~1 s each).
        progress("memory: 1,000 concurrent streams…")
        let slow = try LocalBackend.start(
            LocalBackendSpec(engine: "synthetic", options: [("ttft-ms", "0"), ("itl-ms", "20"), ("tokens", "50")]))
        defer { slow.stop() }
        let streams = await step(url: slow.apiBaseURL, concurrency: 1_000, requests: 1_000, maxTokens: 50)
        slow.stop()

        let last = biasRuns[biasRuns.count - 1]
        let result = Result(
            biasConcurrency: last.concurrency, bias: last.bias, biasRuns: biasRuns, coldBursts: burstRuns,
            throughput: steps, concurrentStreams: streams)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(render(result))
        }
    }

    private func progress(_ text: String) {
        FileHandle.standardError.write(Data(("calibrate: " + text + "\n").utf8))
    }

    private func measure(
        url: String, concurrency: Int, requests: Int, maxTokens: Int, origin: UInt64, requestIDPrefix: String? = nil,
        warmup: Int = 0
    ) async -> (traces: [RequestTrace], summary: RunSummary) {
        let scenario = Scenario(
            name: "calibrate",
            target: TargetSpec(
                url: url, model: "synthetic", timeouts: Timeouts(connect: .seconds(10), total: .seconds(120))),
            workload: WorkloadSpec(prompts: [Prompt(user: "calibrate")], maxTokens: maxTokens, temperature: 0),
            load: LoadSpec(shape: .closed(concurrency: concurrency), stop: .requests(requests), warmup: warmup))
        let driver = LoadDriver(
            scenario: scenario, url: scenario.target.endpointURL(base: url), originNanos: origin,
            requestIDPrefix: requestIDPrefix)
        let traces = await driver.run()
        return (traces, RunSummary(traces: traces))
    }

    private func step(url: String, concurrency: Int, requests: Int, maxTokens: Int) async -> ThroughputStep {
        ProcessResources.resetPeakRSS()
        let cpuBefore = ProcessResources.cpuSeconds()
        let wallBefore = MonotonicClock.nanos()
        let (_, summary) = await measure(
            url: url, concurrency: concurrency, requests: requests, maxTokens: maxTokens, origin: wallBefore)
        let wall = Double(MonotonicClock.nanos() - wallBefore) / 1e9
        let cpu = ProcessResources.cpuSeconds() - cpuBefore
        return ThroughputStep(
            concurrency: concurrency, requests: requests, outputTokensPerSecond: summary.outputTokensPerSecond,
            requestsPerSecond: summary.requestsPerSecond, clientCPUPercent: wall > 0 ? cpu / wall * 100 : 0,
            peakRSSMegabytes: ProcessResources.peakRSSMegabytes(), errors: summary.failed)
    }

    private func render(_ result: Result) -> String {
        let style = TerminalStyle.detect(environment: ProcessInfo.processInfo.environment, isTTY: isatty(1) == 1)
        var out =
            style.apply(
                .bold, "client bias against the server trace (server at ttft 5 ms, itl 2 ms, 64 tokens)") + "\n"
        var bias = TextTable(headers: ["run", "what", "median ms", "p99 ms", "n"])
        for (index, run) in (result.biasRuns + result.coldBursts).enumerated() {
            let burst = index >= result.biasRuns.count
            let label =
                burst ? "cold burst of \(run.concurrency)" : "concurrency \(run.concurrency), \(run.requests) requests"
            var rows: [(String, DistributionSummary?)] = [("TTFT: client − server", run.bias.ttftBias)]
            if burst {
                rows += [
                    ("TTFT after connect: client − server", run.bias.ttftBiasAfterConnect),
                    ("connection setup (client)", run.bias.connectionSetup),
                ]
            }
            rows += [
                ("ITL: client gap − server gap", run.bias.itlBias),
                ("delivery: received − sent", run.bias.deliveryDelay),
                ("request: server read − client write", run.bias.requestDelay),
                ("first token: received − sent", run.bias.firstTokenDelay),
            ]
            for (row, (name, summary)) in rows.enumerated() {
                guard let summary else { continue }
                bias.add([
                    TextTable.Cell(row == 0 ? label : ""), TextTable.Cell(name),
                    TextTable.Cell(String(format: "%.3f", summary.p50)),
                    TextTable.Cell(String(format: "%.3f", summary.p99)), TextTable.Cell(String(summary.count)),
                ])
            }
        }
        out += bias.render(style: style) + "\n"
        out += style.apply(.bold, "client ceiling (server at ttft=0 itl=0, \(tokens) tokens per request)") + "\n"
        var table = TextTable(headers: [
            "concurrency", "requests", "tokens/s", "requests/s", "client CPU", "peak RSS", "errors",
        ])
        for s in result.throughput + [result.concurrentStreams] {
            table.add([
                TextTable.Cell(String(s.concurrency)), TextTable.Cell(String(s.requests)),
                TextTable.Cell(String(format: "%.0f", s.outputTokensPerSecond)),
                TextTable.Cell(String(format: "%.1f", s.requestsPerSecond)),
                TextTable.Cell(String(format: "%.0f%%", s.clientCPUPercent)),
                TextTable.Cell(s.peakRSSMegabytes.map { String(format: "%.1f MB", $0) } ?? "unavailable"),
                TextTable.Cell(String(s.errors)),
            ])
        }
        out += table.render(style: style)
        out += "(the last row: 1,000 streams open at once, 50 tokens 20 ms apart)\n"
        return out
    }
}

/// This process's CPU time and memory high-water mark.
enum ProcessResources {
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
            + Double(usage.ru_stime.tv_usec) / 1e6
    }

    /// VmHWM from /proc/self/status, in MB; nil when it cannot be read.
    static func peakRSSMegabytes() -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return line.split(separator: " ").compactMap { Double($0) }.first.map { $0 / 1024 }
        }
        return nil
    }

    /// Resets the high-water mark to the current RSS (Linux: write 5 to clear_refs).
    static func resetPeakRSS() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }
}
