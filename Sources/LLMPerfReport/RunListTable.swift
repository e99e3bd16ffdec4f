import Foundation
import LLMPerfCore

/// `llmperf runs list`: one row per run, newest first, with its request count; a shard's run and a merged
/// run say so beside their status.
public enum RunListTable {
    public static func render(_ runs: [(run: RunInfo, requests: Int)], style: TerminalStyle) -> String {
        var table = TextTable(
            headers: ["id", "name", "variant", "status", "started", "requests", "labels"],
            alignments: [.left, .left, .left, .left, .left, .right, .left])
        let formatter = ISO8601DateFormatter()
        for (run, requests) in runs {
            table.add([
                TextTable.Cell(run.id), TextTable.Cell(run.name), TextTable.Cell(run.variant ?? ""),
                TextTable.Cell(run.status.rawValue + shardNote(run), style: run.status == .completed ? nil : .yellow),
                TextTable.Cell(formatter.string(from: run.startedAt)), TextTable.Cell(String(requests)),
                TextTable.Cell(run.labels.joined(separator: ",")),
            ])
        }
        return table.render(style: style)
    }

    /// ` · shard I/N` for one shard's run, ` · N shards` for a merged one.
    static func shardNote(_ run: RunInfo) -> String {
        if let stamp = run.shard { return " · shard \(stamp.shard)" }
        if let shards = run.mergedFrom { return " · \(shards.count) shards" }
        return ""
    }
}
