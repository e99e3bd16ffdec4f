import ArgumentParser
import Foundation
import LLMPerfClient
import LLMPerfCore
import LLMPerfReport
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
    @Flag(help: "Print the summary as JSON on standard output (progress stays on standard error).") var json = false
    @Flag(help: "No live progress line: a plain line every few seconds.") var quiet = false
    @Flag(help: "After the run, check it like `llmperf gate` (its slo section, --rule, --baseline); exit 3 on failure.")
    var gate = false
    @OptionGroup var gateOptions: GateOptions

    func validate() throws {
        if let requests, requests <= 0 { throw ValidationError("--requests must be > 0, got \(requests)") }
        try validateLabels(labels)
        if !gate && (gateOptions.baseline != nil || !gateOptions.rules.isEmpty || !gateOptions.maxRegressions.isEmpty) {
            throw ValidationError("--baseline, --rule and --max-regression need --gate")
        }
    }

    func run() async throws {
        let document: ScenarioDocument
        do {
            document = try ScenarioLoader.load(path: scenario)
        } catch {
            throw CLIError.invalid(error.description)
        }
        let store = try openStore(database)
        let interrupts = InterruptHandler()
        let batchID = StoredRun.newBatchID()
        let style = TerminalStyle.detect(environment: ProcessInfo.processInfo.environment, isTTY: isatty(1) == 1)
        let gitCommit = GitCommit.of(directory: (scenario as NSString).deletingLastPathComponent)
        var finished: [MeasuredRun] = []
        var runtimeFailure: String?
        for var plan in document.runs {
            if interrupts.interrupted { break }
            if let requests { plan.load.stop = .requests(requests) }
            let execution = ScenarioExecution(
                scenario: plan, scenarioPath: document.path, batchID: batchID, labels: labels, gitCommit: gitCommit,
                store: store, interactive: !quiet && isatty(2) == 1, interrupts: interrupts)
            do {
                let run = try await execution.execute()
                finished.append(run)
                if !json {
                    print(RunSummaryRenderer.render(run: run.info, summary: run.summary, style: style))
                }
            } catch let error as CLIError {
                runtimeFailure = error.message
                FileHandle.standardError.write(Data("llmperf: \(error.message)\n".utf8))
                break
            }
        }
        if json {
            let pairs = finished.map { ($0.info, $0.summary) }
            print(
                pairs.count == 1
                    ? try SummaryJSON.encode(run: pairs[0].0, summary: pairs[0].1) : try SummaryJSON.encode(runs: pairs)
            )
        } else if finished.count > 1 {
            print(style.apply(.bold, "variants side by side (p50)"))
            print(RunSummaryRenderer.renderSideBySide(runs: finished.map { ($0.info, $0.summary) }, style: style))
            do {
                // The traces are read back from the database for the comparison only.
                let loaded = try StoredRun.loadAll(finished.map(\.info.id), from: store)
                let comparison = try makeComparison(loaded)
                print(style.apply(.bold, "compared with \(loaded[0].comparisonLabel)"))
                print(ComparisonTableRenderer.render(comparison, style: style), terminator: "")
            } catch {
                let message = "cannot compare the variants: \((error as? CLIError)?.message ?? "\(error)")"
                FileHandle.standardError.write(Data("llmperf: \(message)\n".utf8))
                runtimeFailure = runtimeFailure ?? message
            }
        }
        if interrupts.interrupted {
            throw CLIError(message: "run interrupted; what was measured is stored", code: .interrupted)
        }
        if let runtimeFailure { throw CLIError(message: runtimeFailure, code: .failure) }
        if gate {
            var passed = true
            for run in finished {
                passed = try gateOptions.evaluate(StoredRun.load(run.info.id, from: store), store: store) && passed
            }
            if !passed { throw CLIError(message: "gate failed", code: .gateFailed) }
        }
    }
}

/// A run just measured and stored: its summary, without its traces (they are in the
/// database; `StoredRun.load` reads them when a comparison or gate needs them).
struct MeasuredRun {
    var info: RunInfo
    var summary: RunSummary
}

/// One scenario (or variant) from start to stored run: backend, driver, writer, progress.
/// Nothing in it grows with the number of requests: each trace goes to the writer and the
/// progress counters, and the summary is read back from the database in passes.
struct ScenarioExecution {
    var scenario: Scenario
    var scenarioPath: String
    var batchID: String
    var labels: [String]
    var gitCommit: String?
    var store: RunStore
    var interactive: Bool
    var interrupts: InterruptHandler

    func execute() async throws -> MeasuredRun {
        var scenario = scenario
        // Said before anything is sent: no request may go out as other than the scenario asks.
        if scenario.target.http == .http2 {
            let target = scenario.target
            let secure = target.url.map { $0.lowercased().hasPrefix("https:") } ?? (target.backend?.tls ?? false)
            if let reason = CurlFeatures.http2Missing(secure: secure) { throw CLIError.failure(reason) }
        }
        var info = RunInfo(
            id: try store.newRunID(), name: scenario.name, variant: scenario.variant, batchID: batchID, labels: labels,
            scenarioYAML: scenario.redactedYAML, scenarioHash: scenario.hash, scenarioPath: scenarioPath,
            targetURL: scenario.target.shownURL ?? "local", api: scenario.target.api.rawValue,
            model: scenario.target.model,
            loadDescription: scenario.load.summaryText, maxTokens: scenario.workload.maxTokens,
            promptSetHash: scenario.workload.promptSetHash, slo: scenario.slo,
            host: ProcessInfo.processInfo.hostName, gitCommit: gitCommit, startedAt: Date())
        var backend: LocalBackend?
        defer { backend?.stop() }
        let baseURL: String
        if let spec = scenario.target.backend {
            FileHandle.standardError.write(Data("starting the local backend (\(spec.engine))…\n".utf8))
            do {
                let started = try LocalBackend.start(spec)
                backend = started
                baseURL = started.apiBaseURL
                if let caFile = started.caFile { scenario.target.tls.caFile = caFile }
            } catch {
                info.status = .failed
                try store.insertRun(info)
                try store.finishRun(id: info.id, status: .failed, endedAt: Date())
                throw CLIError.failure("run \(info.id): \(error)")
            }
        } else {
            baseURL = scenario.target.url ?? ""
        }
        let url = scenario.target.endpointURL(base: baseURL)
        // Stored and shown with `${VAR}` unexpanded: a variable's value may be a secret.
        info.targetURL = scenario.target.shownURL.map { scenario.target.endpointURL(base: $0) } ?? url
        try store.insertRun(info)

        let writer = RequestWriter(store: store, runID: info.id)
        let total: Int?
        if case .requests(let n) = scenario.load.stop { total = n + scenario.load.warmup } else { total = nil }
        let progress = RunProgress(name: info.variant ?? info.name, total: total, interactive: interactive)
        let driver = LoadDriver(scenario: scenario, url: url, requestIDPrefix: "llmperf-\(info.id)")
        interrupts.onInterrupt { driver.stop() }
        // A batch that cannot be stored even on its retry stops the run: nothing measured after
        // it could be kept.
        writer.onFailure { _ in driver.stop() }
        progress.start()
        await driver.stream { trace in
            writer.append(trace)
            progress.record(trace)
        }
        progress.finish()
        interrupts.onInterrupt {}
        do {
            try writer.finish()
        } catch {
            var message = "\(error)"
            do {
                try store.finishRun(id: info.id, status: .failed, endedAt: Date(), targetURL: info.targetURL)
            } catch let markError {
                message += "; marking run \(info.id) failed did not work either: \(markError)"
            }
            throw CLIError.failure(message)
        }
        info.status = interrupts.interrupted ? .interrupted : .completed
        info.endedAt = Date()
        try store.finishRun(
            id: info.id, status: info.status, endedAt: info.endedAt ?? Date(), targetURL: info.targetURL)
        // Exact, and equal to `RunSummary(traces:)` of the same requests, in memory that does
        // not grow with the run: a few passes over the stored rows (see `StreamedDistributions`).
        let summary: RunSummary
        do {
            summary = try RunSummary { visit in try store.forEachTrace(runID: info.id, outputTextLimit: 0, visit) }
        } catch {
            throw CLIError.failure("run \(info.id) is stored, but reading it back for its summary failed: \(error)")
        }
        return MeasuredRun(info: info, summary: summary)
    }
}

/// The commit of the repository a scenario lives in, stored with the run (nil outside git).
enum GitCommit {
    static func of(directory: String) -> String? {
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
