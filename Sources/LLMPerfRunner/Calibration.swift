import Foundation
import LLMPerfCore
import LLMPerfReport

/// `llmperf calibrate`: starts synthetic servers and measures the client itself: its TTFT and
/// ITL bias against the server's own trace (warm streams, then cold bursts), its throughput
/// ceiling, and its memory holding 1,000 streams.
public struct Calibration: Sendable {
    /// Output tokens per request in the throughput steps.
    public var tokens: Int
    /// Scales the request counts (1 = default).
    public var scale: Double
    public var biasConcurrency: [Int]
    public var coldBurst: [Int]
    public var makeTransport: TransportFactory
    /// Starts the synthetic servers (`llmperf serve` children; a fake in tests). The bias server
    /// is asked for `--trace-file`, which it must have written once stopped.
    public var launcher: any BackendLauncher
    public var clock: any RunClock
    /// The API the client speaks to the synthetic server (each dialect's parsing is measured with it).
    public var api: APIKind
    /// The CPUs the synthetic servers run on (`serve --cpus`); nil: any.
    public var serverCPUs: CPUSet?

    public init(
        tokens: Int, scale: Double, biasConcurrency: [Int], coldBurst: [Int], makeTransport: @escaping TransportFactory,
        launcher: any BackendLauncher, clock: any RunClock = MonotonicRunClock(), api: APIKind = .openAIChat
    ) {
        self.api = api
        self.tokens = tokens
        self.scale = scale
        self.biasConcurrency = biasConcurrency
        self.coldBurst = coldBurst
        self.makeTransport = makeTransport
        self.launcher = launcher
        self.clock = clock
    }

    /// The traces of one bias measurement; their requests carry `x-request-id: <prefix>-<index>`.
    public struct BiasTraces: Sendable {
        public var prefix: String
        public var concurrency: Int
        public var traces: [RequestTrace]

        public init(prefix: String, concurrency: Int, traces: [RequestTrace]) {
            self.prefix = prefix
            self.concurrency = concurrency
            self.traces = traces
        }
    }

    func count(_ base: Int) -> Int { max(1, Int((Double(base) * scale).rounded())) }

    /// `--cpus` for the servers, when they are pinned.
    var cpuOption: [(String, String)] { serverCPUs.map { [("cpus", $0.description)] } ?? [] }

    public func run() async throws -> CalibrationResult {
        // 1. Bias against the server's own trace.
        let traceDir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "llmperf-calibrate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: traceDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: traceDir) }
        let tracePath = traceDir.appendingPathComponent("server.trace").path
        let biasServer = try launcher.start(
            LocalBackendSpec(
                engine: "synthetic",
                options: [("ttft-ms", "5"), ("itl-ms", "2"), ("tokens", "64"), ("trace-file", tracePath)] + cpuOption))
        // The segments on the loopback interface, for the bias against the wire (root or CAP_NET_RAW).
        var capture: LoopbackCapture?
        var wireCapture = CalibrationResult.WireCapture(unavailable: "not captured")
        let biasPort = URLComponents(string: biasServer.apiBaseURL)?.port.flatMap { UInt16(exactly: $0) }
        if let port = biasPort {
            do {
                capture = try LoopbackCapture(port: port)
            } catch {
                wireCapture.unavailable = "\(error)"
            }
        } else {
            wireCapture.unavailable = "no port in the server's address \(biasServer.apiBaseURL)"
        }
        let origin = clock.nowNanos()
        var runs: [BiasTraces] = []
        for concurrency in biasConcurrency {
            progress("bias: concurrency \(concurrency) against a server at ttft 5 ms, itl 2 ms…")
            let prefix = "calibrate-c\(concurrency)-\(runs.count)"
            let traces = await measure(
                url: biasServer.apiBaseURL, concurrency: concurrency, requests: count(concurrency * 10), maxTokens: 64,
                origin: origin, requestIDPrefix: prefix, warmup: concurrency  // warmup opens the connections
            )
            runs.append(BiasTraces(prefix: prefix, concurrency: concurrency, traces: traces))
        }
        var bursts: [BiasTraces] = []
        for size in coldBurst where size > 0 {
            // A transport of its own: its own connection cache, so every connection is new.
            progress("cold burst: \(size) requests at once on fresh connections…")
            let prefix = "calibrate-burst\(size)-\(bursts.count)"
            let traces = await measure(
                url: biasServer.apiBaseURL, concurrency: size, requests: size, maxTokens: 64, origin: origin,
                requestIDPrefix: prefix)
            bursts.append(BiasTraces(prefix: prefix, concurrency: size, traces: traces))
        }
        var wire: (segments: [WireSegment], port: UInt16)?
        if let capture, let port = biasPort {
            let captured = capture.stop()
            wireCapture = .init(
                unavailable: nil, segments: captured.segments.count, packets: captured.packets,
                dropped: captured.dropped)
            if captured.dropped > 0 {
                wireCapture.unavailable =
                    "the kernel dropped \(captured.dropped) of \(captured.packets) packets: a missing segment would "
                    + "pair a token with the next one's"
            } else {
                wire = (captured.segments, port)
            }
        }
        biasServer.stop()  // flushes the trace file
        let serverTrace: ServerTrace
        do {
            serverTrace = try ServerTrace(parsing: try String(contentsOfFile: tracePath, encoding: .utf8))
        } catch {
            throw CLIError.failure("cannot read the server trace: \(error)")
        }
        let biasRuns = runs.map { Self.biasRun($0, server: serverTrace, clientOriginNanos: origin, wire: wire) }
        let burstRuns = bursts.map { Self.biasRun($0, server: serverTrace, clientOriginNanos: origin, wire: wire) }

        // 2. Throughput ceiling.
        let fast = try launcher.start(
            LocalBackendSpec(
                engine: "synthetic", options: [("ttft-ms", "0"), ("itl-ms", "0"), ("tokens", "\(tokens)")] + cpuOption))
        defer { fast.stop() }
        var steps: [CalibrationResult.ThroughputStep] = []
        for (concurrency, requests) in [(1, count(100)), (64, count(1_280)), (256, count(2_560))] {
            progress("throughput: concurrency \(concurrency), \(requests) requests of \(tokens) tokens…")
            steps.append(
                await step(url: fast.apiBaseURL, concurrency: concurrency, requests: requests, maxTokens: tokens))
        }
        fast.stop()

        // 3. Memory with 1,000 streams open at once (50 tokens, 20 ms apart: ~1 s each).
        progress("memory: 1,000 concurrent streams…")
        let slow = try launcher.start(
            LocalBackendSpec(
                engine: "synthetic", options: [("ttft-ms", "0"), ("itl-ms", "20"), ("tokens", "50")] + cpuOption))
        defer { slow.stop() }
        let streams = await step(url: slow.apiBaseURL, concurrency: 1_000, requests: 1_000, maxTokens: 50)
        slow.stop()
        var result = CalibrationResult(
            api: api.rawValue, biasRuns: biasRuns, coldBursts: burstRuns, throughput: steps, concurrentStreams: streams,
            wireCapture: wireCapture)
        result.clientCPUs = CPUSet.allowed()
        result.serverCPUs = serverCPUs?.description ?? result.clientCPUs
        return result
    }

    /// The bias of one measurement: its measured requests matched to the server's trace by
    /// `x-request-id` (`<prefix>-<index>`), and with `wire` (the captured segments and the server's port) to the
    /// segments on the loopback interface too.
    public static func biasRun(
        _ run: BiasTraces, server: ServerTrace, clientOriginNanos: UInt64,
        wire: (segments: [WireSegment], port: UInt16)? = nil
    ) -> CalibrationResult.BiasRun {
        let requestID = { (trace: RequestTrace) in "\(run.prefix)-\(trace.index)" }
        return CalibrationResult.BiasRun(
            concurrency: run.concurrency, requests: run.traces.count { !$0.isWarmup },
            bias: CalibrationBias(
                client: run.traces, server: server, clientOriginNanos: clientOriginNanos, requestID: requestID),
            wire: wire.map {
                WireBias(
                    client: run.traces, server: server, segments: $0.segments, serverPort: $0.port,
                    clientOriginNanos: clientOriginNanos, requestID: requestID)
            })
    }

    /// One throughput step's numbers from its summary, wall time and CPU time.
    public static func throughputStep(
        concurrency: Int, requests: Int, summary: RunSummary, wallSeconds: Double, cpuSeconds: Double,
        peakRSSMegabytes: Double?
    ) -> CalibrationResult.ThroughputStep {
        CalibrationResult.ThroughputStep(
            concurrency: concurrency, requests: requests, outputTokensPerSecond: summary.outputTokensPerSecond,
            requestsPerSecond: summary.requestsPerSecond,
            clientCPUPercent: wallSeconds > 0 ? cpuSeconds / wallSeconds * 100 : 0,
            peakRSSMegabytes: peakRSSMegabytes, errors: summary.failed)
    }

    private func progress(_ text: String) {
        FileHandle.standardError.write(Data(("calibrate: " + text + "\n").utf8))
    }

    func measure(
        url: String, concurrency: Int, requests: Int, maxTokens: Int, origin: UInt64, requestIDPrefix: String? = nil,
        warmup: Int = 0
    ) async -> [RequestTrace] {
        // The server's base for this API (Ollama's lives at the root, not under /v1).
        let url = api.localBaseURL(fromV1Base: url)
        let scenario = Scenario(
            name: "calibrate",
            target: TargetSpec(
                url: url, api: api, model: "synthetic",
                timeouts: Timeouts(connect: .seconds(10), total: .seconds(120))),
            workload: WorkloadSpec(prompts: [Prompt(user: "calibrate")], maxTokens: maxTokens, temperature: 0),
            load: LoadSpec(shape: .closed(concurrency: concurrency), stop: .requests(requests), warmup: warmup))
        let transport = makeTransport(scenario, scenario.target.endpointURL(base: url), origin, requestIDPrefix)
        return await LoadDriver(transport: transport, load: scenario.load, clock: clock).run()
    }

    private func step(url: String, concurrency: Int, requests: Int, maxTokens: Int) async
        -> CalibrationResult.ThroughputStep
    {
        ProcessResources.resetPeakRSS()
        let cpuBefore = ProcessResources.cpuSeconds()
        let wallBefore = clock.nowNanos()
        let traces = await measure(
            url: url, concurrency: concurrency, requests: requests, maxTokens: maxTokens, origin: wallBefore)
        let summary = RunSummary(traces: traces)
        return Self.throughputStep(
            concurrency: concurrency, requests: requests, summary: summary,
            wallSeconds: Double(clock.nowNanos() - wallBefore) / 1e9,
            cpuSeconds: ProcessResources.cpuSeconds() - cpuBefore, peakRSSMegabytes: ProcessResources.peakRSSMegabytes()
        )
    }
}

/// This process's CPU time and memory high-water mark.
public enum ProcessResources {
    public static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec)
            + Double(usage.ru_stime.tv_usec) / 1e6
    }

    /// VmHWM from /proc/self/status (read as `EngineBenchmark` reads it), in MB; nil when it
    /// cannot be read.
    public static func peakRSSMegabytes() -> Double? {
        EngineBenchmark.peakResidentBytes().map { Double($0) / 1_048_576 }
    }

    /// Resets the high-water mark to the current RSS (Linux: write 5 to clear_refs).
    public static func resetPeakRSS() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }
}
