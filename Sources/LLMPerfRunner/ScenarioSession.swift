import Foundation
import LLMPerfCore
import LLMPerfReport

/// `llmperf run`: each variant of a scenario measured and stored in turn, its summary printed
/// (or, with `json`, every summary at the end), then the variants side by side and compared
/// with the first.
public struct ScenarioSession: Sendable {
    public var pipeline: RunPipeline
    public var labels: [String]
    /// Overrides `load.requests`.
    public var requests: Int?
    public var json: Bool
    public var style: TerminalStyle
    /// Scrapes this metrics endpoint during every run (`run --scrape`), in place of the scenario's `target.metrics`.
    public var scrape: MetricsScrapeSpec?

    public init(pipeline: RunPipeline, labels: [String], requests: Int?, json: Bool, style: TerminalStyle) {
        self.pipeline = pipeline
        self.labels = labels
        self.requests = requests
        self.json = json
        self.style = style
    }

    /// The runs measured. Throws once everything is printed: interrupted (130) when Ctrl-C
    /// stopped it, a failure (1) when a variant could not be measured or compared.
    public func run(_ document: ScenarioDocument) async throws -> [MeasuredRun] {
        let interrupts = pipeline.interrupts
        var finished: [MeasuredRun] = []
        var runtimeFailure: String?
        for var plan in document.runs {
            if interrupts.interrupted { break }
            if let requests { plan.load.stop = .requests(requests) }
            if let scrape { plan.target.metrics = scrape }
            do {
                let run = try await pipeline.execute(plan, scenarioPath: document.path, labels: labels)
                finished.append(run)
                if !json {
                    print(
                        RunSummaryRenderer.render(run: run.info, summary: run.summary, turns: run.turns, style: style))
                }
                if let dataset = plan.workload.dataset {
                    // What the dataset gave and what it left out (with --json, on standard error).
                    if json { printError("llmperf: \(dataset.summaryText)") } else { print(dataset.summaryText) }
                }
                if let check = run.serverMetrics {
                    let text = ServerMetricsRenderer.render(
                        url: check.url, scrapes: check.scrapes, failures: check.failures, lastError: check.lastError,
                        reconciliation: check.reconciliation, style: json ? TerminalStyle(enabled: false) : style)
                    // With --json, stdout holds the JSON alone.
                    if json { FileHandle.standardError.write(Data(text.utf8)) } else { print(text) }
                }
                if let tokenizer = run.tokenizer, !json { print("tokens counted by \(tokenizer)") }
                for warning in run.tokenAccounting.warnings + (run.cacheWarning.map { [$0] } ?? []) {
                    // With --json, stdout holds the JSON alone.
                    let line = style.apply(.yellow, "warning: \(warning)")
                    if json { printError("llmperf: warning: \(warning)") } else { print(line) }
                }
            } catch let error as CLIError {
                runtimeFailure = error.message
                printError("llmperf: \(error.message)")
                break
            }
        }
        if json {
            print(
                finished.count == 1
                    ? try SummaryJSON.encode(
                        run: finished[0].info, summary: finished[0].summary, turns: finished[0].turns,
                        tokenizer: finished[0].tokenizer)
                    : try SummaryJSON.encode(
                        runs: finished.map { ($0.info, $0.summary) }, tokenizers: finished.map(\.tokenizer),
                        turns: finished.map(\.turns)))
        } else if finished.count > 1 {
            print(style.apply(.bold, "variants side by side (p50)"))
            print(RunSummaryRenderer.renderSideBySide(runs: finished.map { ($0.info, $0.summary) }, style: style))
            do {
                // The traces are read back from the database for the comparison only.
                let loaded = try StoredRun.loadAll(finished.map(\.info.id), from: pipeline.wiring.repository)
                let comparison = try makeComparison(loaded)
                print(style.apply(.bold, "compared with \(loaded[0].comparisonLabel)"))
                print(ComparisonTableRenderer.render(comparison, style: style), terminator: "")
            } catch {
                let message = "cannot compare the variants: \((error as? CLIError)?.message ?? "\(error)")"
                printError("llmperf: \(message)")
                runtimeFailure = runtimeFailure ?? message
            }
        }
        if interrupts.interrupted {
            throw CLIError(message: "run interrupted; what was measured is stored", code: .interrupted)
        }
        if let runtimeFailure { throw CLIError(message: runtimeFailure, code: .failure) }
        return finished
    }
}
