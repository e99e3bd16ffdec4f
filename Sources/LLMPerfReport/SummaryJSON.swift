import Foundation
import LLMPerfCore

/// The JSON form of one run's summary (`run --json`, `runs show --json`): the run's metadata
/// under `run`, then the same summary fields `report --format json` writes, metrics by name, and
/// `breakdown` (`BreakdownJSON`) when the run's requests had the server's phases, `turns`
/// (`SessionTurnJSON`) for a run of sessions, and `tokenizer` when a tokenizer counted the
/// workload's tokens (`workload.tokenizer`; absent for the word approximation); `shards` for a run merged
/// from shards (`llmperf merge`).
public enum SummaryJSON {
    struct Document: Encodable {
        var run: RunInfo
        var summary: JSONReportSummary
        var breakdown: BreakdownJSON?
        var turns: SessionTurnJSON?
        var tokenizer: String?
        /// A merged run's shards (`ShardThroughput`), by index.
        var shards: [ShardThroughput] = []

        private enum Keys: String, CodingKey { case run, breakdown, turns, tokenizer, shards }

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(run, forKey: .run)
            try container.encodeIfPresent(breakdown, forKey: .breakdown)
            try container.encodeIfPresent(turns, forKey: .turns)
            try container.encodeIfPresent(tokenizer, forKey: .tokenizer)
            if !shards.isEmpty { try container.encode(shards, forKey: .shards) }
            try summary.encode(to: encoder)  // the summary's keys sit beside `run`
        }
    }

    public static func encode(
        run: RunInfo, summary: RunSummary, breakdown: LatencyBreakdown.Summary? = nil,
        turns: SessionTurnSummary? = nil, tokenizer: String? = nil, shards: [ShardThroughput] = []
    ) throws -> String {
        try render(
            Document(
                run: run, summary: JSONReportSummary(summary, loadDescription: run.loadDescription),
                breakdown: breakdown.map(BreakdownJSON.init), turns: turns.map(SessionTurnJSON.init),
                tokenizer: tokenizer, shards: shards))
    }

    /// `tokenizers[i]` is run i's tokenizer, `turns[i]` its table by turn (missing or nil: none).
    public static func encode(
        runs: [(RunInfo, RunSummary)], tokenizers: [String?] = [], turns: [SessionTurnSummary?] = []
    ) throws -> String {
        try render(
            runs.enumerated().map { index, run in
                Document(
                    run: run.0, summary: JSONReportSummary(run.1, loadDescription: run.0.loadDescription),
                    turns: index < turns.count ? turns[index].map(SessionTurnJSON.init) : nil,
                    tokenizer: index < tokenizers.count ? tokenizers[index] : nil)
            })
    }

    private static func render(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
