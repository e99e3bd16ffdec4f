import Foundation
import LLMPerfCore

/// The end of `llmperf lab`: the table with its sentences, as text, JSON, Markdown or HTML.
public struct LabSummary: Sendable {
    /// One optimization as measured: its rows, runs and comparisons, or why it could not be.
    public struct Case: Sendable {
        /// The scenario file's base name.
        public var name: String
        public var optimization: String
        public var rows: [LabRow]
        public var runs: [ReportRun]
        public var comparisons: [RunComparison]
        public var failure: String?
        /// Each compared variant swept over the lab's concurrencies (`lab: sweep:`), empty without.
        public var sweeps: [SweepResult]

        public init(
            name: String, optimization: String, rows: [LabRow], runs: [ReportRun], comparisons: [RunComparison],
            failure: String?, sweeps: [SweepResult] = []
        ) {
            self.sweeps = sweeps
            self.name = name
            self.optimization = optimization
            self.rows = rows
            self.runs = runs
            self.comparisons = comparisons
            self.failure = failure
        }
    }

    public var batchID: String
    public var results: [Case]
    public var skipped: [String]
    public var interrupted: Bool

    public init(batchID: String, results: [Case], skipped: [String], interrupted: Bool) {
        self.batchID = batchID
        self.results = results
        self.skipped = skipped
        self.interrupted = interrupted
    }

    public var rows: [LabRow] { results.flatMap(\.rows) }

    /// The sentences under the table: each row's (did not help, helped less than aimed for),
    /// then what could not be measured, what was skipped and whether the lab was stopped.
    public var notes: [String] {
        var notes = rows.compactMap(\.sentence)
        for result in results {
            if let failure = result.failure {
                notes.append("\(result.optimization) could not be measured: \(failure)")
            } else if result.rows.isEmpty {
                notes.append("\(result.optimization) was stopped before its runs finished.")
            }
        }
        if !skipped.isEmpty {
            notes.append(
                "Skipped (server-side: they need the bundled backend's switches, not an endpoint): "
                    + skipped.joined(separator: ", ") + ".")
        }
        if interrupted { notes.append("Interrupted: the optimizations after the last one shown were not run.") }
        return notes
    }

    public func text(style: TerminalStyle) -> String {
        var out = ""
        if rows.isEmpty {
            out += "no optimization was measured\n"
        } else {
            out += LabReport.terminalTable(rows, style: style)
        }
        let notes = notes
        if !notes.isEmpty {
            out += "\n"
            for note in notes { out += "• \(note)\n" }
        }
        out +=
            "\n"
            + style.apply(
                .dim,
                "every run is stored in batch \(batchID) (labels lab, lab-NAME); "
                    + "llmperf compare BEFORE AFTER shows all metrics of a pair") + "\n"
        return out
    }

    // MARK: JSON

    struct JSONDocument: Encodable {
        var batchId: String
        var rows: [JSONRow]
        var notes: [String]
        var skipped: [String]
        var failures: [JSONFailure]
        var runs: [JSONRun]
        var interrupted: Bool
    }

    struct JSONRow: Encodable {
        var scenario: String
        var optimization: String
        var moves: String
        var metric: String
        var unit: MeasureUnit
        var before: String
        var after: String
        var beforeRun: String?
        var afterRun: String?
        var beforeValue: Double?
        var afterValue: Double?
        var relativeChange: Double?
        var improvementFactor: Double?
        var verdict: Verdict
        var significant: Bool
        var pValue: Double?
        var expectation: String?
        var expectationMet: Bool?
        var sentence: String?
    }

    struct JSONFailure: Encodable {
        var scenario: String
        var message: String
    }

    struct JSONRun: Encodable {
        var scenario: String
        var variant: String?
        var id: String
        var status: RunStatus
    }

    public func json() throws -> String {
        let runIDs = Dictionary(
            results.flatMap { result in result.runs.map { ("\(result.name)/\($0.info.variant ?? "")", $0.info.id) } },
            uniquingKeysWith: { first, _ in first })
        let document = JSONDocument(
            batchId: batchID,
            rows: rows.map { row in
                JSONRow(
                    scenario: row.scenario, optimization: row.optimization, moves: row.moves, metric: row.metric.key,
                    unit: row.unit, before: row.before, after: row.after,
                    beforeRun: runIDs["\(row.scenario)/\(row.before)"],
                    afterRun: runIDs["\(row.scenario)/\(row.after)"],
                    beforeValue: row.beforeValue, afterValue: row.afterValue, relativeChange: row.relativeChange,
                    improvementFactor: row.improvementFactor, verdict: row.verdict,
                    significant: row.verdict == .better || row.verdict == .worse, pValue: row.pValue,
                    expectation: row.expectation?.text(measure: row.metric.measure),
                    expectationMet: row.expectationMet, sentence: row.sentence)
            },
            notes: notes, skipped: skipped,
            failures: results.compactMap { result in
                result.failure.map { JSONFailure(scenario: result.name, message: $0) }
            },
            runs: results.flatMap { result in
                result.runs.map {
                    JSONRun(scenario: result.name, variant: $0.info.variant, id: $0.info.id, status: $0.info.status)
                }
            },
            interrupted: interrupted)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(document), as: UTF8.self)
    }

    // MARK: report

    var reportInput: LabReportInput {
        LabReportInput(
            title: "llmperf lab", rows: rows, notes: notes,
            cases: results.map { result in
                LabReportCase(
                    scenario: result.name, optimization: result.optimization,
                    runs: result.runs.map { ReportRun(info: $0.info, traces: $0.traces, summary: $0.summary) },
                    comparisons: result.comparisons, failure: result.failure, sweeps: result.sweeps)
            }, batchID: batchID)
    }

    /// The report for `path`: Markdown for `.md`, else the self-contained HTML page.
    public func report(forPath path: String) -> String {
        path.hasSuffix(".md") ? LabReport.markdown(reportInput) : LabReport.html(reportInput)
    }
}
