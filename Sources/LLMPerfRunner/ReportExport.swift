import Foundation
import LLMPerfCore
import LLMPerfReport

/// `llmperf report --format`.
public enum ReportFormat: String, CaseIterable, Sendable {
    case html, csv, json, md
}

/// `llmperf report`: stored runs (the first the baseline, compared with the others) written as
/// HTML, CSV, JSON or Markdown, to a file or standard output.
public struct ReportExport: Sendable {
    public var format: ReportFormat
    /// The file to write (standard output when nil).
    public var output: String?
    /// CSV: per-metric statistics of each run instead of one row per request.
    public var summary: Bool

    public init(format: ReportFormat, output: String?, summary: Bool) {
        self.format = format
        self.output = output
        self.summary = summary
    }

    public func run(_ references: [String], store: any RunRepository) throws {
        if references.contains(where: SweepReference.isSweep) {
            return try runSweeps(references, store: store)
        }
        // JSON carries every output whole; the other formats show snippets at most.
        let loaded = try StoredRun.loadAll(references, from: store, outputTextLimit: format == .json ? nil : 512)
        let comparison = loaded.count > 1 ? try makeComparison(loaded) : nil
        var runs = loaded.map(\.reportRun)
        for i in runs.indices {
            let (scrapes, reconciliation) = try ServerMetricsCheck.reconcile(runID: runs[i].info.id, store: store)
            runs[i].scrapes = scrapes
            runs[i].reconciliation = scrapes.isEmpty ? nil : reconciliation
        }
        let input = ReportInput(runs: runs, comparison: comparison)
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
        if let output { printError("wrote \(output)") }
    }

    /// Sweeps (every reference `sweep:…`): HTML curves overlaid, one CSV row a point, JSON, Markdown.
    func runSweeps(_ references: [String], store: any RunRepository) throws {
        guard references.allSatisfy(SweepReference.isSweep) else {
            throw CLIError.invalid("a report is of runs or of sweeps (sweep:NAME@latest), not both")
        }
        if summary { throw CLIError.invalid("--summary applies to runs; a sweep's CSV is one row a point already") }
        let sweeps = try references.map { try StoredSweep.load($0, from: store) }
        if sweeps.count > 1, Set(sweeps.map(\.record.over)).count > 1 {
            throw CLIError.invalid("the sweeps are over concurrency and over rate: their curves share no axis")
        }
        let text: String
        switch format {
        case .html: text = HTMLSweepReport.render(sweeps)
        case .csv: text = SweepText.csv(sweeps)
        case .md: text = sweeps.map(SweepText.markdown).joined(separator: "\n")
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            text = String(decoding: try encoder.encode(sweeps), as: UTF8.self) + "\n"
        }
        if let output {
            try writeText(text, to: output)
            printError("wrote \(output)")
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    private func outputHandle() throws -> FileHandle {
        guard let output else { return FileHandle.standardOutput }
        guard FileManager.default.createFile(atPath: output, contents: nil),
            let handle = FileHandle(forWritingAtPath: output)
        else { throw CLIError.failure("cannot write \(output)") }
        return handle
    }
}
