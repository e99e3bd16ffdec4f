import Foundation
import LLMPerfCore
import LLMPerfReport

/// `llmperf gate sweep:…`: `capacity.*` rules on a stored sweep.
public enum SweepGate {
    /// Evaluates and prints the rules; returns whether every one passed.
    public static func evaluate(
        _ reference: String, rules texts: [String], store: any RunRepository, style: TerminalStyle
    ) throws -> Bool {
        guard !texts.isEmpty else {
            throw CLIError.invalid(
                "no rules to check: a sweep is gated on its capacity, e.g. --rule 'capacity.requests_per_s >= 12'")
        }
        let rules: [CapacityRule]
        do {
            rules = try texts.map { try CapacityRule.parse($0) }
        } catch {
            throw CLIError.invalid("\(error)")
        }
        let sweep = try StoredSweep.load(reference, from: store)
        let results = rules.map { $0.evaluate(sweep) }
        var table = TextTable(headers: ["rule", "capacity", "result"])
        for result in results {
            table.add([
                TextTable.Cell(result.rule),
                TextTable.Cell(result.measured.map { SweepOver.format($0) } ?? "–"),
                result.passed
                    ? TextTable.Cell("pass", style: .green)
                    : TextTable.Cell("FAIL" + (result.reason.map { ": \($0)" } ?? ""), style: .red),
            ])
        }
        var out = style.apply(.bold, "gate sweep \(sweep.record.name) (\(sweep.record.batchID))") + "\n"
        out += table.render(style: style)
        out += SweepText.summaryLines(sweep).map { $0 + "\n" }.joined()
        let passed = results.allSatisfy(\.passed)
        out +=
            passed ? "gate passed\n" : "gate failed: \(results.filter { !$0.passed }.count) of \(results.count) rules\n"
        print(out, terminator: "")
        return passed
    }
}
