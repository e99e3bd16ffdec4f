import Foundation
import LLMPerfCore

/// The JSON form of one run's summary (`run --json`, `runs show --json`): the run's metadata
/// under `run`, then the same summary fields `report --format json` writes, metrics by name, and
/// `breakdown` (`BreakdownJSON`) when the run's requests had the server's phases.
public enum SummaryJSON {
    struct Document: Encodable {
        var run: RunInfo
        var summary: JSONReportSummary
        var breakdown: BreakdownJSON?

        private enum Keys: String, CodingKey { case run, breakdown }

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(run, forKey: .run)
            try container.encodeIfPresent(breakdown, forKey: .breakdown)
            try summary.encode(to: encoder)  // the summary's keys sit beside `run`
        }
    }

    public static func encode(run: RunInfo, summary: RunSummary, breakdown: LatencyBreakdown.Summary? = nil) throws
        -> String
    {
        try render(
            Document(
                run: run, summary: JSONReportSummary(summary, loadDescription: run.loadDescription),
                breakdown: breakdown.map(BreakdownJSON.init)))
    }

    public static func encode(runs: [(RunInfo, RunSummary)]) throws -> String {
        try render(
            runs.map { Document(run: $0.0, summary: JSONReportSummary($0.1, loadDescription: $0.0.loadDescription)) })
    }

    private static func render(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
