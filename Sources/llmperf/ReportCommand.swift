import ArgumentParser
import Foundation
import LLMPerfCore
import LLMPerfReport
import LLMPerfRunner

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Export runs as HTML (self-contained, with charts), CSV, JSON or Markdown.",
        discussion: """
            With several runs the first is the baseline and the report includes the comparison. \
            CSV has one row per request (or, with --summary, one per run and metric).
            """)

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "One to eight runs, or sweeps (sweep:NAME@latest) for their curves.") var runs: [String]
    @Option(help: "The output format.") var format: ReportFormat = .html
    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.") var output: String?
    @Flag(help: "CSV: per-metric statistics of each run instead of one row per request.") var summary = false

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("name at least one run") }
        guard runs.count <= ReportInput.maximumRuns else {
            throw ValidationError("a report takes at most \(ReportInput.maximumRuns) runs, got \(runs.count)")
        }
        if summary && format != .csv { throw ValidationError("--summary applies to --format csv only") }
    }

    func run() async throws {
        try ReportExport(format: format, output: output, summary: summary).run(runs, store: try openStore(database))
    }
}

extension ReportFormat: ExpressibleByArgument {}
