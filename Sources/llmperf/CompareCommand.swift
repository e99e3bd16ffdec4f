import ArgumentParser
import Foundation
import LLMPerfCore
import LLMPerfReport
import LLMPerfRunner

struct CompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare runs: every metric side by side, with significance (the first run is the baseline).",
        discussion: """
            Runs are named by id or unique prefix, name@latest, name~N, label:X or name/variant; two \
            sweeps (sweep:NAME~1 sweep:NAME@latest) compare point by point, with their capacities. \
            Each metric's verdict is better, worse, or ~ (no significant change at --alpha): a \
            two-sided Mann-Whitney U test on the per-request samples, a two-proportion test for \
            rates, and a seeded bootstrap 95% interval of the p50 and p95 difference. When the \
            servers reported their own phases, "Where it moved" gives each segment's median in both \
            runs and names the segments that moved TTFT and the whole request.
            """)

    enum Format: String, CaseIterable, ExpressibleByArgument {
        case text, md, json
    }

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "Two or more runs; the first is the baseline.") var runs: [String]
    @Option(help: "The output format.") var format: Format = .text
    @Option(help: "Significance level.") var alpha: Double = 0.05
    @Option(help: "Bootstrap seed (results are reproducible for a seed).") var seed: UInt64 = 1
    @Option(
        name: .customLong("min-change"),
        help: "A significant change smaller than this is shown as ~ (e.g. 2%, 0% to turn off).")
    var minChange: String = "2%"

    func validate() throws {
        guard runs.count >= 2 else { throw ValidationError("compare needs at least two runs, got \(runs.count)") }
        guard runs.count <= ReportInput.maximumRuns else {
            throw ValidationError("compare takes at most \(ReportInput.maximumRuns) runs, got \(runs.count)")
        }
        guard alpha > 0, alpha < 1 else { throw ValidationError("--alpha must be between 0 and 1, got \(alpha)") }
        guard PercentParser.fraction(minChange) != nil else {
            throw ValidationError("--min-change: expected a percentage such as 2%, got '\(minChange)'")
        }
    }

    func run() async throws {
        let store = try openStore(database)
        let sweeps = runs.filter(SweepReference.isSweep).count
        if sweeps > 0 {
            guard sweeps == 2, runs.count == 2 else {
                throw CLIError.invalid("compare takes two sweeps (sweep:NAME~1 sweep:NAME@latest), or runs only")
            }
            let comparison = try SweepComparison.make(
                runs[0], runs[1], store: store, minimumChange: PercentParser.fraction(minChange) ?? 0.02)
            switch format {
            case .json:
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                encoder.dateEncodingStrategy = .iso8601
                print(String(decoding: try encoder.encode(comparison), as: UTF8.self))
            case .text, .md:
                print(comparison.render(style: format == .md ? TerminalStyle(enabled: false) : .stdout), terminator: "")
            }
            return
        }
        let loaded = try StoredRun.loadAll(runs, from: store)
        let comparison = try makeComparison(
            loaded, alpha: alpha, seed: seed, minimumChange: PercentParser.fraction(minChange) ?? 0.02)
        let moved = makeBreakdownComparisons(loaded, comparison: comparison)
        switch format {
        case .md:
            let section = BreakdownComparisonText.markdown(moved)
            print(
                MarkdownReport.comparisonSection(comparison) + (section.isEmpty ? "" : "\n" + section), terminator: "")
        case .json:
            print(try ComparisonJSON.encode(comparison, shifts: moved))
        case .text:
            print(
                ComparisonTableRenderer.render(comparison, style: .stdout)
                    + BreakdownComparisonText.render(moved, style: .stdout), terminator: "")
        }
    }
}
