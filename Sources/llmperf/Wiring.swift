import ArgumentParser
import Foundation
import LLMPerfClient
import LLMPerfCore
import LLMPerfExporter
import LLMPerfReport
import LLMPerfRunner
import LLMPerfStore

/// Each run sends through a `CurlTransport` of its own (its own connection cache).
let curlTransport: TransportFactory = { scenario, url, origin, prefix in
    CurlTransport(
        config: TransportConfig(
            target: scenario.target, url: url, streaming: scenario.workload.stream, originNanos: origin),
        workload: scenario.workload, model: scenario.target.model, load: scenario.load, requestIDPrefix: prefix,
        cacheBustKey: CacheBust.runKey(prefix ?? ""))
}

/// How a replayed trace's rows become prompt text (`load.replay`) under `tokenizer: words`: one word a
/// token. With a tokenizer the runner builds exact token blocks itself (`TokenBlockPrompts`).
let liveReplayPromptBuilder: @Sendable () -> any BlockPromptBuilding = { WordBlockPrompts() }

extension RunWiring {
    /// libcurl for the requests, SQLite for the runs, `llmperf serve` children for local backends; the live
    /// metrics (`--metrics-listen`) watch the runs when there are any.
    static func live(_ store: RunStore, metrics: MetricsExporter? = nil) -> RunWiring {
        RunWiring(
            repository: store, makeTransport: curlTransport, launcher: LocalBackendLauncher.live,
            http2Missing: { CurlFeatures.http2Missing(secure: $0) }, observer: metrics?.observer,
            metricsSource: CurlMetricsSource(), replayPromptBuilder: liveReplayPromptBuilder)
    }
}

extension LocalBackendLauncher {
    static let live = LocalBackendLauncher { url, milliseconds, caFile in
        HTTPProbe.get(url, timeoutMilliseconds: milliseconds, caFile: caFile)?.status
    }
}

extension TerminalStyle {
    /// Colors for standard output (`NO_COLOR` and whether it is a terminal decide).
    static var stdout: TerminalStyle {
        TerminalStyle.detect(environment: ProcessInfo.processInfo.environment, isTTY: isatty(1) == 1)
    }
}

/// A live line on a terminal; a plain line every few seconds otherwise or with `--quiet`.
func progressMode(quiet: Bool) -> ProgressMode { !quiet && isatty(2) == 1 ? .live : .plain }

/// `--db` shared by every command that reads or writes runs.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "The run database (default: $LLMPERF_DB or ./.llmperf/llmperf.sqlite).")
    var db: String?
}

func openStore(_ options: DatabaseOptions) throws -> RunStore {
    try openStore(path: options.db ?? RunStore.defaultPath())
}

func openStore(path: String) throws -> RunStore {
    do {
        return try RunStore(path: path)
    } catch {
        throw CLIError.failure(error.description)
    }
}

/// Labels are single words: no spaces or commas (they are listed comma-separated).
func validateLabels(_ labels: [String]) throws {
    if let problem = labelProblem(labels) { throw ValidationError(problem) }
}

extension RunStatus: ExpressibleByArgument {}
