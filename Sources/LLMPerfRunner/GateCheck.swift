import Foundation
import LLMPerfCore
import LLMPerfReport

/// `llmperf gate` and `llmperf run --gate`: which rules apply to a run, their evaluation, and
/// the files asked for (JUnit XML, Markdown).
public struct GateCheck: Sendable {
    public var rules: [String]
    public var baseline: String?
    public var maxRegressions: [String]
    public var noSlo: Bool
    public var alpha: Double
    public var junit: String?
    public var markdown: String?

    public init(
        rules: [String], baseline: String?, maxRegressions: [String], noSlo: Bool, alpha: Double, junit: String?,
        markdown: String?
    ) {
        self.rules = rules
        self.baseline = baseline
        self.maxRegressions = maxRegressions
        self.noSlo = noSlo
        self.alpha = alpha
        self.junit = junit
        self.markdown = markdown
    }

    /// Every rule to apply to `run`: its scenario's SLOs, `--rule`s and `--max-regression`s.
    public func rules(for run: RunInfo) throws -> [GateRule] {
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
    public func evaluate(_ run: StoredRun, store: any RunRepository, style: TerminalStyle) throws -> Bool {
        let gateRules = try rules(for: run.info)
        let baselineRun = try baseline.map { try StoredRun.load($0, from: store) }
        let goodputRules = try GateRule.rules(from: run.info.slo).filter(\.isPerRequest)
        let evaluation = GateEvaluation(
            rules: gateRules, run: run.traces, baseline: baselineRun?.traces, alpha: alpha,
            goodputRules: goodputRules.isEmpty ? nil : goodputRules)
        var header = "gate \(run.info.displayName) (\(run.info.id))"
        if let baselineRun { header += " against \(baselineRun.info.displayName) (\(baselineRun.info.id))" }
        print(GateTable.render(evaluation, header: header, style: style), terminator: "")
        if let junit {
            try writeText(JUnitReport.render(evaluation, suite: "llmperf gate \(run.info.displayName)"), to: junit)
        }
        if let markdown {
            try appendText(
                GateMarkdown.render(evaluation, run: "\(run.info.displayName) (\(run.info.id))"), to: markdown)
        }
        return evaluation.passed
    }
}
