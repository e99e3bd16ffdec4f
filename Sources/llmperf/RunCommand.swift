import ArgumentParser
import Foundation
import LLMPerfCore
import LLMPerfRunner

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

    func validate() throws {
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
        let metrics = try await metricsListen.start()
        let store = try openStore(database)
        let interrupts = InterruptHandler()  // before anything else runs: Ctrl-C from here on stops gracefully
        let pipeline = RunPipeline(
            wiring: .live(store, metrics: metrics), batchID: StoredRun.newBatchID(),
            gitCommit: GitCommit.of(directory: (scenario as NSString).deletingLastPathComponent),
            progress: progressMode(quiet: quiet), interrupts: interrupts, steadyState: steadyState)
        var session = ScenarioSession(
            pipeline: pipeline, labels: labels, requests: requests, json: json, style: .stdout)
        session.scrape = try scrapeSpec()
        let finished = try await session.run(document)
        await metricsListen.finish(metrics)
        if gate {
            var passed = true
            for run in finished {
                passed =
                    try gateOptions.check.evaluate(
                        StoredRun.load(run.info.id, from: store), store: store, style: .stdout)
                    && passed
            }
            if !passed { throw CLIError(message: "gate failed", code: .gateFailed) }
        }
    }
}
