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

    enum Format: String, CaseIterable, ExpressibleByArgument {
        case html, csv, json, md
    }

    @OptionGroup var database: DatabaseOptions
    @Argument(help: "One to eight runs.") var runs: [String]
    @Option(help: "The output format.") var format: Format = .html
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
        let store = try openStore(database)
        // JSON carries every output whole; the other formats show snippets at most.
        let loaded = try StoredRun.loadAll(runs, from: store, outputTextLimit: format == .json ? nil : 512)
        let comparison = loaded.count > 1 ? try makeComparison(loaded) : nil
        let input = ReportInput(runs: loaded.map(\.reportRun), comparison: comparison)
        if format == .json {
            let handle = try outputHandle()
            defer { if output != nil { try? handle.close() } }
            try JSONReport.write(input, pretty: true, to: handle)
            if output == nil { print("") }
        } else {
            let text: String
            switch format {
            case .csv: text = summary ? CSVReport.summary(input.runs) : CSVReport.requests(input.runs)
            case .md: text = MarkdownReport.render(input)
            default: text = HTMLReport.render(input)
            }
            if let output {
                try writeText(text, to: output)
            } else {
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
        if let output { FileHandle.standardError.write(Data("wrote \(output)\n".utf8)) }
    }

    private func outputHandle() throws -> FileHandle {
        guard let output else { return FileHandle.standardOutput }
        guard FileManager.default.createFile(atPath: output, contents: nil),
            let handle = FileHandle(forWritingAtPath: output)
        else { throw CLIError.failure("cannot write \(output)") }
        return handle
    }
}
