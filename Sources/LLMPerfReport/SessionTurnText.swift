import Foundation
import LLMPerfCore

/// "By turn": a run of sessions' TTFT and prompt cache by turn index (`SessionTurnSummary`).
public enum SessionTurnText {
    public static func render(_ summary: SessionTurnSummary, style: TerminalStyle) -> String {
        var out = style.apply(.bold, "by turn (\(summary.sessions) sessions)") + "\n"
        var table = TextTable(headers: [
            "turn", "n", "ok", "ttft p50", "ttft p90", "history tok", "prompt tok", "cached tok", "cached",
        ])
        func number(_ value: Double?, _ format: String) -> TextTable.Cell {
            TextTable.Cell(value.map { String(format: format, $0) } ?? "–")
        }
        for row in summary.rows {
            let cachedMean = row.cache.map { Double($0.cachedTokens) / Double(max(1, $0.requests)) }
            table.add([
                TextTable.Cell(String(row.turn + 1)), TextTable.Cell(String(row.requests)),
                TextTable.Cell(String(row.succeeded)),
                number(row.ttftP50Millis, "%.1f ms"), number(row.ttftP90Millis, "%.1f ms"),
                number(row.historyTokensMean, "%.0f"), number(row.promptTokensMean, "%.0f"),
                number(cachedMean, "%.0f"), TextTable.Cell(row.cache.map { Formatting.percent($0.share) } ?? "–"),
            ])
        }
        out += table.render(style: style)
        return out
    }
}

/// JSON of `SessionTurnSummary`, under `turns` in `run --json` and `runs show --json`; `turn` counts
/// from 1 (the first turn), as the text table does.
struct SessionTurnJSON: Encodable, Equatable {
    struct Row: Encodable, Equatable {
        var turn: Int
        var requests: Int
        var succeeded: Int
        var ttftP50Ms: Double?
        var ttftP90Ms: Double?
        var historyTokensMean: Double?
        var promptTokensMean: Double?
        var cachedPromptTokens: Int?
        var cachedShare: Double?
    }

    var sessions: Int
    var rows: [Row]

    init(_ summary: SessionTurnSummary) {
        sessions = summary.sessions
        rows = summary.rows.map {
            Row(
                turn: $0.turn + 1, requests: $0.requests, succeeded: $0.succeeded, ttftP50Ms: $0.ttftP50Millis,
                ttftP90Ms: $0.ttftP90Millis, historyTokensMean: $0.historyTokensMean,
                promptTokensMean: $0.promptTokensMean, cachedPromptTokens: $0.cache?.cachedTokens,
                cachedShare: $0.cache?.share)
        }
    }
}
