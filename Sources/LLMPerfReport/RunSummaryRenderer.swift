import Foundation
import LLMPerfCore

/// The terminal summary of one run: every metric's p50/p90/p99/mean, throughput, errors.
public enum RunSummaryRenderer {
    /// Metrics in the order a reader wants them: what the user feels first, then phases.
    public static let metricOrder: [Metric] = [
        .ttft, .ttftScheduled, .ttfa, .reasoningTime, .tpot, .itl, .e2e, .total, .queue, .dns, .tcp, .tls, .ttfb,
        .serverPreprocess, .serverQueue, .serverPrompt, .serverGeneration, .serverPostprocess, .serverTotal,
        .networkClient, .inputTokens, .outputTokens, .reasoningTokens, .answerTokens,
        .usageDiff,
    ]

    /// With `breakdown` (the run's requests had the server's phases), "Where the time went" at the end.
    /// With `turns` (a run of sessions), the "by turn" table after the totals.
    public static func render(
        run: RunInfo, summary: RunSummary, breakdown: LatencyBreakdown.Summary? = nil,
        turns: SessionTurnSummary? = nil, shards: [ShardThroughput] = [], style: TerminalStyle
    ) -> String {
        var out = ""
        let title = "\(run.displayName)  \(run.id)  (\(run.status.rawValue))"
        out += style.apply(.bold, title) + "\n"
        out += "target \(run.targetURL)  model \(run.model)  load \(run.loadDescription)\n"
        if let line = ShardTable.line(run) { out += line + "\n" }
        out += "\n"
        var table = TextTable(headers: ["metric", "unit", "p50", "p90", "p99", "mean", "min", "max", "n"])
        for metric in ReportMetrics.summaryOrder(summary) {
            guard let s = summary.metrics[metric] else { continue }
            let f = { (v: Double) in Formatting.value(v, unit: metric.unit) }
            table.add([
                TextTable.Cell(metric.rawValue), TextTable.Cell(metric.unit.rawValue), TextTable.Cell(f(s.p50)),
                TextTable.Cell(f(s.p90)), TextTable.Cell(f(s.p99)), TextTable.Cell(f(s.mean)),
                TextTable.Cell(f(s.min)), TextTable.Cell(f(s.max)), TextTable.Cell(String(s.count)),
            ])
        }
        out += table.render(style: style)
        out += "\n"
        let byTokenizer = summary.outputTokensFromTokenizer ?? 0
        let byChunks = summary.succeeded - summary.outputTokensFromUsage - byTokenizer
        let notes =
            (byTokenizer > 0 ? ["counted by the tokenizer for \(byTokenizer) requests"] : [])
            + (byChunks > 0 ? ["counted from chunks for \(byChunks) requests"] : [])
        let tokenNote = notes.isEmpty ? "" : " (" + notes.joined(separator: ", ") + ")"
        out += String(
            format: "requests %d ok, %d failed (%@), %d warmup  ·  window %.2f s\n", summary.succeeded,
            summary.failed, Formatting.percent(summary.errorRate), summary.warmup, summary.windowSeconds)
        if summary.generatedNothing {
            // Nothing generated (an embeddings endpoint): its throughput is the input it took.
            out += String(
                format: "throughput %.1f input tokens/s, %.2f requests/s  ·  %d input tokens\n",
                summary.inputTokensPerSecond, summary.requestsPerSecond, summary.totalInputTokens)
        } else {
            out += String(
                format: "throughput %.1f output tokens/s, %.2f requests/s  ·  %d output tokens%@\n",
                summary.outputTokensPerSecond, summary.requestsPerSecond, summary.totalOutputTokens, tokenNote)
        }
        if let cache = summary.promptCache {
            out += String(
                format: "prompt cache %@ of prompt tokens served from the server's cache (%d of %d, %d requests)\n",
                Formatting.percent(cache.share), cache.cachedTokens, cache.promptTokens, cache.requests)
        }
        if !summary.errorsByKind.isEmpty {
            let errors = summary.errorsByKind.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }
            out += style.apply(.red, "errors " + errors.joined(separator: ", ")) + "\n"
        }
        if let window = run.steadyWindow {
            out += String(
                format: "steady state %.2f s to %.2f s of the run: the statistics count the %d requests sent and ended "
                    + "in it\n", Double(window.fromNanos) / 1e9, Double(window.toNanos) / 1e9, summary.requests)
        }
        if let lag = ScheduleLag.of(summary: summary, loadDescription: run.loadDescription) {
            out += scheduleLagText(lag, style: style)
        }
        if let client = run.clientLoad, case let reasons = client.bottleneckReasons(), !reasons.isEmpty {
            out +=
                style.apply(
                    .yellow,
                    "the client may have been the bottleneck (\(reasons.joined(separator: ", "))): these numbers may be "
                        + "the client's, not the endpoint's") + "\n"
        }
        if !shards.isEmpty { out += "\n" + ShardTable.render(shards, style: style) }
        if let turns { out += "\n" + SessionTurnText.render(turns, style: style) }
        if let breakdown { out += "\n" + BreakdownText.render(breakdown, style: style) }
        return out
    }

    /// A replay's lag line, and the client-bound line when its p99 is above the limit.
    public static func scheduleLagText(_ lag: ScheduleLag, style: TerminalStyle) -> String {
        let ms = { (v: Double) in DecimalText.trimmed(v, fractionDigits: 3) + " ms" }
        var out =
            "schedule lag (sent − trace time) p50 \(ms(lag.p50Milliseconds)), p99 \(ms(lag.p99Milliseconds)), "
            + "max \(ms(lag.maxMilliseconds)) over \(lag.requests) requests\n"
        if lag.isClientBound {
            out +=
                style.apply(
                    .yellow,
                    "client-bound replay: schedule lag p99 \(ms(lag.p99Milliseconds)) is above "
                        + "\(ms(ScheduleLag.clientBoundMilliseconds)); the requests went out later than the trace says, "
                        + "so the server saw a gentler load than the trace's") + "\n"
        }
        return out
    }

    /// Several runs (the variants of one scenario) side by side: p50 of each metric and the
    /// throughput, one column per run.
    public static func renderSideBySide(runs: [(RunInfo, RunSummary)], style: TerminalStyle) -> String {
        var table = TextTable(headers: ["metric (p50)"] + runs.map { $0.0.variant ?? $0.0.id })
        for metric in metricOrder {
            guard runs.contains(where: { ReportMetrics.shows(metric, in: $0.1) }) else { continue }
            table.add(
                [TextTable.Cell("\(metric.rawValue) \(metric.unit.rawValue)")]
                    + runs.map { run in
                        TextTable.Cell(run.1.metrics[metric].map { Formatting.value($0.p50, unit: metric.unit) } ?? "–")
                    })
        }
        table.add(
            [TextTable.Cell("output tokens/s")]
                + runs.map { TextTable.Cell(String(format: "%.1f", $0.1.outputTokensPerSecond)) })
        if runs.contains(where: { $0.1.generatedNothing }) {
            table.add(
                [TextTable.Cell("input tokens/s")]
                    + runs.map { TextTable.Cell(String(format: "%.1f", $0.1.inputTokensPerSecond)) })
        }
        table.add(
            [TextTable.Cell("requests/s")] + runs.map { TextTable.Cell(String(format: "%.2f", $0.1.requestsPerSecond)) }
        )
        table.add([TextTable.Cell("error rate")] + runs.map { TextTable.Cell(Formatting.percent($0.1.errorRate)) })
        table.add([TextTable.Cell("run id")] + runs.map { TextTable.Cell($0.0.id) })
        return table.render(style: style)
    }
}
