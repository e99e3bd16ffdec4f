import ArgumentParser
import Foundation
import LLMPerfCore
import LLMPerfReport
import LLMPerfStore

/// The options shared by `llmperf gate` and `llmperf run --gate`.
struct GateOptions: ParsableArguments {
    @Option(
        name: .customLong("rule"), help: "An absolute rule, e.g. 'ttft.p95 < 500ms', 'error_rate < 1%'. Repeatable.")
    var rules: [String] = []
    @Option(help: "A baseline run for regression rules (id, name@latest, label:X, …).")
    var baseline: String?
    @Option(
        name: .customLong("max-regression"),
        help:
            "Fail when a statistic gets worse than the baseline by more than this, and significantly: 'ttft.p95=10%'. Repeatable."
    )
    var maxRegressions: [String] = []
    @Flag(help: "Ignore the scenario's slo section.") var noSlo = false
    @Option(help: "Significance level for regression rules.") var alpha: Double = 0.05
    @Option(help: "Write the results as JUnit XML to this file.") var junit: String?
    @Option(help: "Append the results as Markdown to this file (e.g. $GITHUB_STEP_SUMMARY).") var markdown: String?

    /// Every rule to apply to `run`: its scenario's SLOs, `--rule`s and `--max-regression`s.
    func rules(for run: RunInfo) throws -> [GateRule] {
        // A gate never passes because a rule could not be read.
        if !noSlo, let problem = run.sloProblem {
            throw CLIError.failure(
                "run \(run.id): \(problem); the gate cannot check it without its slo rules (--no-slo checks only "
                    + "--rule and --max-regression)")
        }
        var parsed: [GateRule] = []
        do {
            if !noSlo { parsed += try GateRule.rules(from: run.slo) }
            parsed += try rules.map { try GateRule.parse($0) }
            parsed += try maxRegressions.map { try GateRule.parseMaxRegression($0) }
        } catch {
            throw CLIError.invalid("\(error)")
        }
        guard !parsed.isEmpty else {
            throw CLIError.invalid(
                "no rules to check: run \(run.id)'s scenario has no slo section; give --rule or --max-regression")
        }
        let needsBaseline = parsed.contains { if case .regression = $0.kind { return true } else { return false } }
        if needsBaseline && baseline == nil {
            throw CLIError.invalid("regression rules need --baseline REF")
        }
        return parsed
    }

    /// Evaluates, prints, writes the requested files and returns whether every rule passed.
    func evaluate(_ run: StoredRun, store: RunStore) throws -> Bool {
        let gateRules = try rules(for: run.info)
        let baselineRun = try baseline.map { try StoredRun.load($0, from: store) }
        let evaluation = GateEvaluation(
            rules: gateRules, run: run.traces, baseline: baselineRun?.traces, alpha: alpha,
            goodputRules: try GateRule.rules(from: run.info.slo).filter(\.isPerRequest).nilIfEmpty)
        let style = TerminalStyle.detect(environment: ProcessInfo.processInfo.environment, isTTY: isatty(1) == 1)
        var header = "gate \(run.info.displayName) (\(run.info.id))"
        if let baselineRun { header += " against \(baselineRun.info.displayName) (\(baselineRun.info.id))" }
        print(style.apply(.bold, header))
        var table = TextTable(headers: ["", "rule", "measured", "why"], alignments: [.left, .left, .right, .left])
        for result in evaluation.results {
            table.add([
                TextTable.Cell(result.passed ? "pass" : "FAIL", style: result.passed ? .green : .red),
                TextTable.Cell(result.rule), TextTable.Cell(result.measuredText), TextTable.Cell(result.reason),
            ])
        }
        print(table.render(style: style), terminator: "")
        let failed = evaluation.results.filter { !$0.passed }.count
        print(
            evaluation.passed
                ? style.apply(.green, "gate passed: \(evaluation.results.count) rules")
                : style.apply(.red, "gate failed: \(failed) of \(evaluation.results.count) rules"))
        if let junit {
            do {
                try JUnitReport.render(evaluation, suite: "llmperf gate \(run.info.displayName)")
                    .write(toFile: junit, atomically: true, encoding: .utf8)
            } catch {
                throw CLIError.failure("cannot write \(junit): \(error.localizedDescription)")
            }
        }
        if let markdown {
            try appendText(
                GateMarkdown.render(evaluation, run: "\(run.info.displayName) (\(run.info.id))"), to: markdown)
        }
        return evaluation.passed
    }
}

extension Array {
    fileprivate var nilIfEmpty: [Element]? { isEmpty ? nil : self }
}

/// Appends to a file, creating it when missing (so `$GITHUB_STEP_SUMMARY` keeps what others wrote).
func appendText(_ text: String, to path: String) throws {
    if !FileManager.default.fileExists(atPath: path) {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CLIError.failure("cannot create \(path)")
        }
    }
    guard let handle = FileHandle(forWritingAtPath: path) else { throw CLIError.failure("cannot open \(path)") }
    defer { try? handle.close() }
    handle.seekToEndOfFile()
    handle.write(Data(text.utf8))
}

struct GateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gate",
        abstract: "Check a run against its SLOs, --rule and regression limits; exit 3 when a rule fails.",
        discussion: """
            Absolute rules come from the scenario's slo section and --rule ('ttft.p95 < 500ms', \
            'tpot.p99 <= 50ms', 'error_rate < 1%', 'output_tokens_per_s > 100', 'goodput >= 90%'). \
            Regression rules ('--max-regression ttft.p95=10%', or --rule 'ttft.p95=+10%') compare with \
            --baseline and fail only when the change exceeds the limit and is significant. Exit codes: \
            0 pass, 3 fail, 2 invalid rule or run reference.
            """)

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "The run to check.") var run: String
    @OptionGroup var gate: GateOptions

    func run() async throws {
        let store = try openStore(database)
        let stored = try StoredRun.load(run, from: store)
        if !(try gate.evaluate(stored, store: store)) {
            throw CLIError(message: "gate failed", code: .gateFailed)
        }
    }
}
