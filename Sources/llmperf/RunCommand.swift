import ArgumentParser
import Foundation
import LLMPerfCore
import LLMPerfRunner
import LLMPerfStore

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a scenario: measure an endpoint phase by phase and store the run.",
        discussion: """
            Each variant of the scenario is its own run with its own id; after all of them the \
            variants are shown side by side and compared with the first. Ctrl-C stops sending, \
            stores everything, marks the run interrupted and exits 130.
            """)

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "The scenario file (YAML, version: 1).") var scenario: String
    @Option(name: .customLong("label"), help: "Label the run(s), e.g. before-cache. Repeatable.") var labels: [String] =
        []
    @Option(help: "Override load.requests (measured requests per run).") var requests: Int?
    @Flag(
        help:
            "Count only the steady state: the requests sent and ended between the end of the ramp-up and the start of the drain (stored with the run)."
    )
    var steadyState = false
    @Option(
        help: ArgumentHelp(
            "Scrape this Prometheus endpoint during the run (e.g. http://127.0.0.1:8000/metrics), in place of the scenario's target.metrics.",
            valueName: "url"))
    var scrape: String?
    @Option(help: "How often --scrape scrapes (default 1s, at least 100ms).") var scrapeInterval: String?
    @Flag(help: "Print the summary as JSON on standard output (progress stays on standard error).") var json = false
    @Flag(help: "No live progress line: a plain line every few seconds.") var quiet = false
    @Flag(help: "After the run, check it like `llmperf gate` (its slo section, --rule, --baseline); exit 3 on failure.")
    var gate = false
    @OptionGroup var gateOptions: GateOptions
    @OptionGroup var metricsListen: MetricsListenOptions
    @Option(
        help: ArgumentHelp(
            "Run shard I of N of the load (from 0): a closed loop's concurrency is split, an open loop or a replay "
                + "sends every N-th arrival of the same schedule, sessions go by session. `llmperf merge` makes one "
                + "run of the shards.", valueName: "I/N"))
    var shard: String?
    @Option(
        help: ArgumentHelp(
            "Send nothing before this wall-clock time (RFC 3339 such as 2026-12-06T23:00:00Z, or seconds since "
                + "1970), so that shards start together.", valueName: "time"))
    var startAt: String?
    @Option(help: "Store the run(s) under this batch id (the shards of one load share one; default: a new id).")
    var batchID: String?
    @Option(
        help: ArgumentHelp(
            "Run the load as N shard processes on this machine and merge them into one run: for a load one process "
                + "cannot drive. The target must be a url (a local backend would start once per shard).",
            valueName: "n"))
    var processes: Int?

    /// `--shard` parsed; nil without it.
    func shardSpec() throws -> ShardSpec? {
        guard let shard else { return nil }
        switch ShardSpec.parse(shard) {
        case .success(let spec): return spec
        case .failure(let error): throw ValidationError("--shard \(error)")
        }
    }

    func validate() throws {
        _ = try shardSpec()
        if let startAt, WallClockTime.parse(startAt) == nil {
            throw ValidationError(
                "--start-at expects an RFC 3339 time such as 2026-12-06T23:00:00Z or seconds since 1970, got '\(startAt)'"
            )
        }
        if let batchID,
            batchID.isEmpty || batchID.count > 64
                || !batchID.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) })
        {
            throw ValidationError("--batch-id expects 1 to 64 letters, digits, '-', '_' or '.', got '\(batchID)'")
        }
        if let processes {
            if processes < 1 || processes > 64 {
                throw ValidationError("--processes must be 1 to 64, got \(processes)")
            }
            if shard != nil { throw ValidationError("--processes runs its own shards: leave out --shard") }
            if metricsListen.listen != nil {
                throw ValidationError("--processes cannot serve --metrics-listen (each shard is its own process)")
            }
        }
        if (shard != nil || processes != nil) && steadyState {
            throw ValidationError(
                "--steady-state cannot be combined with --shard or --processes (each shard would pick its own window)")
        }
        if (shard != nil || processes != nil) && scrape != nil {
            throw ValidationError(
                "--scrape cannot be combined with --shard or --processes (every shard would scrape the same server)")
        }
        if let requests, requests <= 0 { throw ValidationError("--requests must be > 0, got \(requests)") }
        try validateLabels(labels)
        if scrapeInterval != nil && scrape == nil { throw ValidationError("--scrape-interval needs --scrape") }
        _ = try scrapeSpec()
        if !gate && (gateOptions.baseline != nil || !gateOptions.rules.isEmpty || !gateOptions.maxRegressions.isEmpty) {
            throw ValidationError("--baseline, --rule and --max-regression need --gate")
        }
    }

    /// `--scrape` and `--scrape-interval` as a scrape spec; nil without `--scrape`.
    func scrapeSpec() throws -> MetricsScrapeSpec? {
        guard let scrape else { return nil }
        guard TargetSpec.isHTTPURL(scrape) else {
            throw ValidationError(
                "--scrape expects an http(s) URL such as http://127.0.0.1:8000/metrics, got '\(scrape)'")
        }
        var spec = MetricsScrapeSpec(url: scrape)
        if let scrapeInterval {
            guard let interval = DurationParser.parse(scrapeInterval), interval >= MetricsScrapeSpec.shortestInterval
            else {
                throw ValidationError("--scrape-interval expects a duration of at least 100ms, got '\(scrapeInterval)'")
            }
            spec.interval = interval
        }
        return spec
    }

    func run() async throws {
        let document: ScenarioDocument
        do {
            document = try ScenarioLoader.load(path: scenario)
        } catch {
            throw CLIError.invalid(error.description)
        }
        if let shard = try shardSpec() {
            for plan in document.runs {
                if let problem = plan.load.shardProblem(count: shard.count) {
                    throw CLIError.invalid("--shard \(shard): \(problem)")
                }
            }
        }
        if let processes {
            let finished = try await ShardProcesses(command: self, count: processes).run(document)
            if gate { try checkGate(finished, store: try openStore(database)) }
            return
        }
        let metrics = try await metricsListen.start()
        let store = try openStore(database)
        let interrupts = InterruptHandler()  // before anything else runs: Ctrl-C from here on stops gracefully
        var pipeline = RunPipeline(
            wiring: .live(store, metrics: metrics), batchID: batchID ?? StoredRun.newBatchID(),
            gitCommit: GitCommit.of(directory: (scenario as NSString).deletingLastPathComponent),
            progress: progressMode(quiet: quiet), interrupts: interrupts, steadyState: steadyState)
        pipeline.shard = try shardSpec()
        pipeline.startAt = startAt.flatMap(WallClockTime.parse)
        var session = ScenarioSession(
            pipeline: pipeline, labels: labels, requests: requests, json: json, style: .stdout)
        session.scrape = try scrapeSpec()
        let finished = try await session.run(document)
        await metricsListen.finish(metrics)
        if gate { try checkGate(finished.map(\.info), store: store) }
    }

    /// `--gate`: each run checked like `llmperf gate`; exit 3 when one fails.
    func checkGate(_ runs: [RunInfo], store: RunStore) throws {
        var passed = true
        for run in runs {
            passed =
                try gateOptions.check.evaluate(StoredRun.load(run.id, from: store), store: store, style: .stdout)
                && passed
        }
        if !passed { throw CLIError(message: "gate failed", code: .gateFailed) }
    }
}
