import Foundation
import LLMPerfCore

/// A sharded or merged run as every format shows it: one line saying what it is, and for a merged run one
/// row per shard (its host, requests, throughput over its own window, and its clocks).
public enum ShardTable {
    public static let headers = [
        "shard", "host", "ok", "failed", "output tok/s", "req/s", "window s", "origin +ms", "late ms", "drift µs",
        "± µs",
    ]

    /// The line under a run's title: which shard it was, or how many shards it was merged from; nil otherwise.
    public static func line(_ run: RunInfo) -> String? {
        if let stamp = run.shard {
            return "shard \(stamp.shard) of a sharded load: `llmperf merge` its shards' files into one run"
        }
        if let shards = run.mergedFrom {
            let hosts = Set(shards.map(\.host)).count
            return "merged from \(shards.count) shards on \(hosts) host\(hosts == 1 ? "" : "s"): every request of "
                + "each, on one time axis; the statistics are computed over all of them"
        }
        return nil
    }

    public static func rows(_ shards: [ShardThroughput]) -> [[String]] {
        shards.map { s in
            [
                String(s.shard), s.host, String(s.succeeded), String(s.failed),
                String(format: "%.1f", s.outputTokensPerSecond), String(format: "%.2f", s.requestsPerSecond),
                String(format: "%.2f", s.windowSeconds),
                DecimalText.trimmed(s.originSkewMilliseconds, fractionDigits: 3),
                s.lateByMilliseconds.map { DecimalText.trimmed($0, fractionDigits: 3) } ?? "–",
                s.clockDriftMicroseconds.map { DecimalText.trimmed($0, fractionDigits: 3) } ?? "–",
                DecimalText.trimmed(s.clockUncertaintyMicroseconds, fractionDigits: 3),
            ]
        }
    }

    /// The terminal table (empty for no shards).
    public static func render(_ shards: [ShardThroughput], style: TerminalStyle) -> String {
        guard !shards.isEmpty else { return "" }
        var table = TextTable(headers: headers)
        for row in rows(shards) { table.add(row.map { TextTable.Cell($0) }) }
        return "shards (origin: when the shard began after the first; drift: its wall clock against its monotonic "
            + "clock over the run)\n" + table.render(style: style)
    }
}
