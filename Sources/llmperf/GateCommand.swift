import ArgumentParser
import Foundation
import LLMPerfCore
import LLMPerfRunner

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

    var check: GateCheck {
        GateCheck(
            rules: rules, baseline: baseline, maxRegressions: maxRegressions, noSlo: noSlo, alpha: alpha, junit: junit,
            markdown: markdown)
    }
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
            0 pass, 3 fail, 2 invalid rule or run reference. A sweep (sweep:NAME@latest) is gated on its \
            capacity: 'capacity.requests_per_s >= 12', 'capacity.concurrency >= 16' (also \
            output_tokens_per_s, goodput_requests_per_s, rate).
            """)

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "The run to check, or a sweep (sweep:NAME@latest) for capacity.* rules.") var run: String
    @OptionGroup var gate: GateOptions

    func run() async throws {
        let store = try openStore(database)
        if SweepReference.isSweep(run) {
            guard gate.baseline == nil, gate.maxRegressions.isEmpty, gate.junit == nil, gate.markdown == nil else {
                throw CLIError.invalid(
                    "a sweep is gated with --rule 'capacity.…' only (--baseline, --max-regression, --junit and "
                        + "--markdown apply to runs)")
            }
            if !(try SweepGate.evaluate(run, rules: gate.rules, store: store, style: .stdout)) {
                throw CLIError(message: "gate failed", code: .gateFailed)
            }
            return
        }
        let stored = try StoredRun.load(run, from: store)
        if !(try gate.check.evaluate(stored, store: store, style: .stdout)) {
            throw CLIError(message: "gate failed", code: .gateFailed)
        }
    }
}
