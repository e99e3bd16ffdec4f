import Foundation
import LLMPerfCore
import LLMTokenizer

/// Makes the transport one run sends through: `url` is the full endpoint URL, `originNanos` the
/// run origin every trace time is relative to (CLOCK_MONOTONIC), `requestIDPrefix` the
/// `x-request-id` prefix (nil: none). libcurl in the executable, a fake in tests.
public typealias TransportFactory =
    @Sendable (_ scenario: Scenario, _ url: String, _ originNanos: UInt64, _ requestIDPrefix: String?) -> any Transport

/// The implementations a run is wired to: the executable passes the Client's and the Store's,
/// the tests pass fakes.
public struct RunWiring: Sendable {
    public var repository: any RunRepository
    public var makeTransport: TransportFactory
    public var launcher: any BackendLauncher
    /// Why HTTP/2 cannot be used (over TLS when `secure`), nil when it can.
    public var http2Missing: @Sendable (_ secure: Bool) -> String?
    public var clock: any RunClock
    public var cancelGrace: Duration
    /// Told of every run, send and trace as they happen (`run --metrics-listen`); nil: nobody watches.
    public var observer: (any RunObserver)?
    /// Reads a server's metrics endpoint when a scenario scrapes one (`target.metrics`).
    public var metricsSource: (any MetricsSource)?
    /// Makes the builder of a replay's prompts (`load.replay`), one a run: the one place that decides how a
    /// trace's lengths and block ids become text (words here; a tokenizer's exact tokens where one is wired).
    public var replayPromptBuilder: @Sendable () -> any BlockPromptBuilding
    /// The wall clock, ns since 1970 (a shard's clock offsets are read against `clock`).
    public var wallClock: @Sendable () -> Int64

    public init(
        repository: any RunRepository, makeTransport: @escaping TransportFactory, launcher: any BackendLauncher,
        http2Missing: @escaping @Sendable (_ secure: Bool) -> String? = { _ in nil },
        clock: any RunClock = MonotonicRunClock(), cancelGrace: Duration = .seconds(2),
        observer: (any RunObserver)? = nil, metricsSource: (any MetricsSource)? = nil,
        replayPromptBuilder: @escaping @Sendable () -> any BlockPromptBuilding = { WordBlockPrompts() },
        wallClock: @escaping @Sendable () -> Int64 = ShardClockReader.systemWallNanos
    ) {
        self.wallClock = wallClock
        self.replayPromptBuilder = replayPromptBuilder
        self.observer = observer
        self.metricsSource = metricsSource
        self.repository = repository
        self.makeTransport = makeTransport
        self.launcher = launcher
        self.http2Missing = http2Missing
        self.clock = clock
        self.cancelGrace = cancelGrace
    }
}

/// A run just measured and stored: its summary, without its traces (they are in the
/// database; `StoredRun.load` reads them when a comparison or gate needs them).
public struct MeasuredRun: Sendable {
    public var info: RunInfo
    public var summary: RunSummary
    /// Requests short of a fixed length, usage below what arrived (see `TokenAccounting`).
    public var tokenAccounting: TokenAccounting
    /// The scrapes of the server's metrics endpoint and what they say beside the client (`target.metrics`).
    public var serverMetrics: ServerMetricsCheck?
    /// A run of sessions by turn index (`workload.sessions`).
    public var turns: SessionTurnSummary?
    /// The warning of a run served from a prefix cache it did not mean to share (see
    /// `PromptCacheShare.warning`).
    public var cacheWarning: String?
    /// What counted the workload's tokens (`workload.tokenizer`, `RunTokenizer.description`); nil: the word
    /// approximation.
    public var tokenizer: String?

    public init(info: RunInfo, summary: RunSummary, tokenAccounting: TokenAccounting? = nil) {
        self.info = info
        self.summary = summary
        self.tokenAccounting = tokenAccounting ?? TokenAccounting(workload: WorkloadSpec(prompts: []))
    }
}

/// Runs scenarios (or variants) from start to stored run: backend, driver, sink, progress, and
/// the run's status (`running`, then `completed`, `interrupted` or `failed`). Nothing in it
/// grows with the number of requests: each trace goes to the sink and the progress counters,
/// and the summary is read back from the repository in passes.
public struct RunPipeline: Sendable {
    public var wiring: RunWiring
    public var batchID: String
    public var gitCommit: String?
    public var progress: ProgressMode
    public var interrupts: any Interrupts
    /// Take each run's statistics over its steady-state window (`SteadyStateWindow`), stored with the run.
    public var steadyState: Bool
    /// Run this share of each scenario's load (`run --shard I/N`, see `ShardSpec`); nil: the whole load.
    public var shard: ShardSpec?
    /// Send nothing before this wall-clock time (`run --start-at`), so that shards start together.
    public var startAt: Date?

    public init(
        wiring: RunWiring, batchID: String, gitCommit: String?, progress: ProgressMode, interrupts: any Interrupts,
        steadyState: Bool = false
    ) {
        self.steadyState = steadyState
        self.wiring = wiring
        self.batchID = batchID
        self.gitCommit = gitCommit
        self.progress = progress
        self.interrupts = interrupts
    }

    /// Sleeps until `startAt` on the wall clock (the monotonic clock sleeps, the wall clock says until when);
    /// a shard that comes after it starts at once and says how late it is (the merge shows it too).
    func waitForStart(_ startAt: Date, shard: ShardSpec, runID: String) async {
        let offset = ShardClockReader.read(clock: wiring.clock, wall: wiring.wallClock).offsetNanos
        let startWall = Int64((startAt.timeIntervalSince1970 * 1e9).rounded())
        let startMonotonic = startWall &- offset
        let now = Int64(clamping: wiring.clock.nowNanos())
        if startMonotonic > now {
            await wiring.clock.sleep(untilNanos: UInt64(startMonotonic))
        } else {
            printError(
                "llmperf: run \(runID), shard \(shard): started \(DecimalText.trimmed(Double(now - startMonotonic) / 1e6, fractionDigits: 1)) ms "
                    + "after --start-at")
        }
    }

    public func execute(_ scenario: Scenario, scenarioPath: String, labels: [String]) async throws -> MeasuredRun {
        var scenario = scenario
        let store = wiring.repository
        // Loaded once per run, before anything is sent: the synthetic prompts take their exact lengths from it,
        // and a replay's rows their exact input lengths (blocks of 512 of its tokens, as Mooncake's hash ids count).
        let tokenizer = try RunTokenizer.load(scenario.workload.tokenizer)
        try tokenizer?.applyExactLengths(to: &scenario.workload)
        scenario.workload.tokenCounter = tokenizer.map { loaded in
            TokenCounter(name: loaded.description) {
                loaded.tokenizer.encode($0, addSpecial: false, parseSpecial: false).count
            }
        }
        if let tokenizer {
            var builder = TokenBlockPrompts(
                text: tokenizer.text, blockTokens: WordBlockPrompts.blockTokens,
                seed: UInt64(bitPattern: Int64(scenario.workload.seed ?? 1)))
            scenario = scenario.withReplayPrompts(builder: &builder)
        } else {
            var builder = wiring.replayPromptBuilder()
            scenario = scenario.withReplayPrompts(builder: &builder)
        }
        // Said before anything is sent: no request may go out as other than the scenario asks.
        if scenario.target.http == .http2 {
            let target = scenario.target
            let secure = target.url.map { $0.lowercased().hasPrefix("https:") } ?? (target.backend?.tls ?? false)
            if let reason = wiring.http2Missing(secure) { throw CLIError.failure(reason) }
        }
        if let shard, let problem = scenario.load.shardProblem(count: shard.count) {
            throw CLIError.invalid("--shard \(shard): \(problem)")
        }
        var info = RunInfo(
            id: try store.newRunID(), name: scenario.name, variant: scenario.variant, batchID: batchID, labels: labels,
            scenarioYAML: scenario.redactedYAML, scenarioHash: scenario.hash, scenarioPath: scenarioPath,
            targetURL: scenario.target.shownURL ?? "local", api: scenario.target.api.rawValue,
            model: scenario.target.model,
            loadDescription: scenario.load.summaryText, maxTokens: scenario.workload.maxTokens,
            promptSetHash: scenario.workload.promptSetHash, slo: scenario.slo,
            host: ProcessInfo.processInfo.hostName, gitCommit: gitCommit, startedAt: Date())
        var backend: (any RunningBackend)?
        defer { backend?.stop() }
        let baseURL: String
        var metricsURL = scenario.target.metrics?.url
        if let spec = scenario.target.backend {
            FileHandle.standardError.write(Data("starting the local backend (\(spec.engine))…\n".utf8))
            do {
                let started = try wiring.launcher.start(spec)
                backend = started
                // llama.cpp's and TGI's native paths sit at the server's root, not under /v1.
                baseURL = scenario.target.api.localBaseURL(fromV1Base: started.apiBaseURL)
                if scenario.target.metrics != nil && metricsURL == nil {
                    metricsURL = APIKind.llamaCpp.localBaseURL(fromV1Base: started.apiBaseURL) + "/metrics"
                }
                if let caFile = started.caFile { scenario.target.tls.caFile = caFile }
            } catch {
                info.status = .failed
                try store.createRun(info)
                try store.finishRun(id: info.id, status: .failed, endedAt: Date())
                throw CLIError.failure("run \(info.id): \(error)")
            }
        } else {
            baseURL = scenario.target.url ?? ""
        }
        let stream = scenario.workload.stream
        let url = scenario.target.endpointURL(base: baseURL, stream: stream)
        // Stored and shown with `${VAR}` unexpanded: a variable's value may be a secret.
        info.targetURL = scenario.target.shownURL.map { scenario.target.endpointURL(base: $0, stream: stream) } ?? url
        let originNanos: UInt64
        if let shard {
            // The shard lines up on the shared start, then reads its clocks just before its origin: the merge puts
            // every shard's request times on one axis through `originWallNanos`.
            if let startAt { await waitForStart(startAt, shard: shard, runID: info.id) }
            let startClock = ShardClockReader.read(clock: wiring.clock, wall: wiring.wallClock)
            originNanos = wiring.clock.nowNanos()
            info.shard = ShardStamp(
                shard: shard, startClock: startClock,
                originWallNanos: Int64(clamping: originNanos) &+ startClock.offsetNanos,
                startAtWallNanos: startAt.map { Int64(($0.timeIntervalSince1970 * 1e9).rounded()) })
            try store.createRun(info)
        } else {
            try store.createRun(info)
            originNanos = wiring.clock.nowNanos()
        }

        var total: Int?
        if case .requests(let n) = scenario.load.stop { total = n + scenario.load.warmup } else { total = nil }
        if let shard, scenario.workload.sessions == nil { total = total.map { shard.share(of: $0) } }
        let progress = RunProgress(name: info.variant ?? info.name, total: total, mode: progress)
        var transport = wiring.makeTransport(scenario, url, originNanos, "llmperf-\(info.id)")
        if let observer = wiring.observer {
            transport = ObservedTransport(base: transport, observer: observer, clock: wiring.clock)
            observer.runStarted(info, originNanos: originNanos)
        }
        let driver = LoadDriver(
            transport: transport, load: scenario.load, clock: wiring.clock, cancelGrace: wiring.cancelGrace,
            sessions: scenario.workload.sessionPlan, shard: shard)
        interrupts.onInterrupt { driver.stop() }
        // A batch that cannot be stored even on its retry stops the run: nothing measured after
        // it could be kept.
        let sink = store.traceSink(runID: info.id) { driver.stop() }
        var scraper: MetricsScraper?
        if let spec = scenario.target.metrics, let metricsURL {
            guard let source = wiring.metricsSource else {
                throw CLIError.failure("run \(info.id): target.metrics is set, but this build has no metrics scraper")
            }
            let warned = WarnOnce()
            let runID = info.id
            scraper = MetricsScraper(
                url: metricsURL, interval: spec.interval, timeoutMilliseconds: spec.timeoutMilliseconds,
                source: source, clock: wiring.clock, originNanos: originNanos
            ) { scrape, previous in
                do {
                    try store.recordScrape(runID: runID, scrape, previous: previous)
                } catch {
                    warned.say("llmperf: run \(runID): a scrape of \(metricsURL) could not be stored: \(error)")
                }
            }
            scraper?.start()
        }
        progress.start()
        let accounting = TokenAccountingBox(TokenAccounting(workload: scenario.workload))
        let probe = ClientLoadProbe()
        probe.start()
        await driver.stream { trace in
            sink.append(trace)
            progress.counter.record(trace)
            accounting.add(trace)
        }
        info.clientLoad = probe.stop()
        if info.shard != nil {
            let endClock = ShardClockReader.read(clock: wiring.clock, wall: wiring.wallClock)
            info.shard?.endClock = endClock
            do {
                try store.recordShardEnd(id: info.id, endClock: endClock)
            } catch {
                printError("llmperf: run \(info.id): its shard's end clock could not be stored: \(error)")
            }
        }
        scraper?.stop()
        progress.finish()
        interrupts.onInterrupt {}
        do {
            _ = try sink.finish()
        } catch {
            var message = "\(error)"
            info.status = .failed
            wiring.observer?.runEnded(info)
            do {
                try store.finishRun(id: info.id, status: .failed, endedAt: Date(), targetURL: info.targetURL)
            } catch let markError {
                message += "; marking run \(info.id) failed did not work either: \(markError)"
            }
            throw CLIError.failure(message)
        }
        info.status = interrupts.interrupted ? .interrupted : .completed
        info.endedAt = Date()
        wiring.observer?.runEnded(info)
        try store.finishRun(
            id: info.id, status: info.status, endedAt: info.endedAt ?? Date(), targetURL: info.targetURL)
        if let clientLoad = info.clientLoad { try store.recordClientLoad(id: info.id, clientLoad) }
        // Exact, and equal to `RunSummary(traces:)` of the same requests, in memory that does
        // not grow with the run: a few passes over the stored rows (see `StreamedDistributions`).
        if steadyState && info.status == .completed {
            var spans: [SteadyStateWindow.Span] = []
            try store.forEachTrace(runID: info.id, outputTextLimit: 0) { spans.append(.init($0)) }
            if let window = SteadyStateWindow.of(spans: spans, shape: scenario.load.shape) {
                try store.recordSteadyWindow(id: info.id, window)
                info.steadyWindow = window
            } else {
                printError(
                    "llmperf: run \(info.id) has no steady state (too few requests for its load: each is part of the "
                        + "ramp-up or the drain); its statistics count every request")
            }
        }
        let summary: RunSummary
        do {
            if let window = info.steadyWindow {
                var throughput = SteadyStateWindow.Throughput(window)
                try store.forEachTrace(runID: info.id, outputTextLimit: 0) { throughput.add($0) }
                summary = throughput.applied(
                    to: try RunSummary { visit in
                        try store.forEachTrace(runID: info.id, outputTextLimit: 0) { trace in
                            if window.contains(trace) { try visit(trace) }
                        }
                    })
            } else {
                summary = try RunSummary { visit in try store.forEachTrace(runID: info.id, outputTextLimit: 0, visit) }
            }
        } catch {
            throw CLIError.failure("run \(info.id) is stored, but reading it back for its summary failed: \(error)")
        }
        var measured = MeasuredRun(info: info, summary: summary, tokenAccounting: accounting.value)
        measured.cacheWarning = summary.promptCache?.warning(
            sharesByDesign: scenario.workload.sharesPrefixes(requests: summary.requests + summary.warmup))
        if scenario.workload.sessions != nil {
            do {
                var turns = SessionTurnSummary.Tally()
                try store.forEachTrace(runID: info.id, outputTextLimit: 0) { trace in
                    if info.steadyWindow?.contains(trace) ?? true { turns.add(trace) }
                }
                measured.turns = turns.summary
            } catch {
                printError("llmperf: run \(info.id): its turns could not be read back: \(error)")
            }
        }
        measured.tokenizer = tokenizer?.description
        if scraper != nil, let metricsURL {
            do {
                measured.serverMetrics = try ServerMetricsCheck.of(runID: info.id, url: metricsURL, store: store)
            } catch {
                printError("llmperf: run \(info.id): its scrapes of \(metricsURL) could not be read back: \(error)")
            }
        }
        return measured
    }
}

/// The commit of the repository a scenario lives in, stored with the run (nil outside git).
public enum GitCommit {
    public static func of(directory: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", directory.isEmpty ? "." : directory, "rev-parse", "--short=12", "HEAD"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}

/// Prints a warning the first time only (a database that refuses one scrape refuses the next).
private final class WarnOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var said = false

    func say(_ message: String) {
        let first = lock.withLock {
            defer { said = true }
            return !said
        }
        if first { printError(message) }
    }
}

/// The run's `TokenAccounting`, added to from the driver's trace callback.
private final class TokenAccountingBox: @unchecked Sendable {
    private let lock = NSLock()
    private var accounting: TokenAccounting

    init(_ accounting: TokenAccounting) { self.accounting = accounting }

    func add(_ trace: RequestTrace) { lock.withLock { accounting.add(trace) } }
    var value: TokenAccounting { lock.withLock { accounting } }
}
