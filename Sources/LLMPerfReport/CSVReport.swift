import Foundation
import LLMPerfCore

/// `report --format csv`: one record per request with every phase and token field, and a
/// summary CSV with one record per run and metric. RFC 4180 (CRLF, quoted fields); times in
/// milliseconds with up to six decimals (nanosecond precision), raw timestamps in nanoseconds.
public enum CSVReport {
    public static let requestColumns = [
        "run_id", "index", "warmup", "prompt_index", "scheduled_ns", "started_ns", "ended_ns", "dns_ms", "tcp_ms",
        "tls_ms", "ttfb_ms", "ttft_ms", "ttft_scheduled_ms", "queue_ms", "tpot_ms", "e2e_ms", "total_ms", "chunks",
        "input_tokens", "output_tokens", "output_token_source", "cached_tokens", "outcome", "http_status",
        "error_detail", "connection_reused", "http_version", "remote_address", "ttfa_ms", "reasoning_time_ms",
        "reasoning_tokens", "answer_tokens", "usage_diff", "server_prompt_ms", "server_generation_ms",
        "server_total_ms", "server_load_ms", "draft_tokens", "draft_accepted_tokens", "server_queue_ms",
        "server_preprocess_ms", "server_postprocess_ms", "server_cached_tokens", "server_batch_size",
        "network_client_ms",
    ]

    public static let summaryColumns = [
        "run_id", "run_name", "metric", "unit", "count", "p50", "p90", "p95", "p99", "mean", "min", "max", "stddev",
    ]

    /// Every request of every run, in run order then request order.
    public static func requests(_ runs: [ReportRun]) -> String {
        let total = runs.reduce(0) { $0 + $1.traces.count }
        var csv = CSVWriter(reservingCapacity: 256 * total + 512)
        csv.record(requestColumns)
        for run in runs {
            let runID = CSVWriter.quoted(run.info.id)
            for trace in run.traces { append(trace, runID: runID, to: &csv) }
        }
        return csv.text
    }

    /// One record per run and metric that has values, in `ReportMetrics.summaryOrder`.
    public static func summary(_ runs: [ReportRun]) -> String {
        var csv = CSVWriter()
        csv.record(summaryColumns)
        for run in runs {
            for metric in ReportMetrics.summaryOrder(run.summary) {
                guard let s = run.summary.metrics[metric] else { continue }
                csv.field(run.info.id)
                csv.field(run.info.displayName)
                csv.plain(metric.rawValue)
                csv.plain(metric.unit.rawValue)
                csv.integer(s.count)
                for value in [s.p50, s.p90, s.p95, s.p99, s.mean, s.min, s.max, s.stddev] { csv.number(value) }
                csv.endRecord()
            }
        }
        return csv.text
    }

    private static func append(_ trace: RequestTrace, runID: String, to csv: inout CSVWriter) {
        csv.plain(runID)
        csv.integer(trace.index)
        csv.plain(trace.isWarmup ? "true" : "false")
        csv.integer(trace.promptIndex)
        csv.integer(trace.scheduledAtNanos)
        csv.integer(trace.startedAtNanos)
        csv.integer(trace.endedAtNanos)
        for metric in [Metric.dns, .tcp, .tls, .ttfb, .ttft, .ttftScheduled, .queue, .tpot, .e2e, .total] {
            // Closed loop: no schedule, so no scheduled TTFT (it would repeat `ttft`).
            csv.number(metric == .ttftScheduled && trace.scheduledAtNanos == nil ? nil : metric.value(of: trace))
        }
        csv.integer(trace.chunkAtNanos.count)
        csv.integer(trace.inputTokens)
        csv.integer(trace.outputTokens)
        csv.plain(trace.outputTokenSource.rawValue)
        csv.integer(trace.usage?.cachedTokens)
        csv.plain(trace.outcome.failureKind?.code ?? "ok")
        csv.integer(trace.httpStatus)
        csv.field(trace.outcome.detail)
        csv.plain(trace.connection.reused ? "true" : "false")
        csv.field(trace.connection.httpVersion)
        csv.field(trace.connection.remoteAddress)
        // Added after the first release: at the end, so the columns before keep their places.
        csv.number(Metric.ttfa.value(of: trace))
        csv.number(Metric.reasoningTime.value(of: trace))
        csv.integer(trace.reasoningTokens)
        csv.integer(trace.answerTokens)
        csv.integer(Metric.usageDiff.value(of: trace).map { Int($0) })
        let timings = trace.serverTimings
        for nanos in [timings?.promptNanos, timings?.generationNanos, timings?.totalNanos, timings?.loadNanos] {
            csv.number(nanos.map { Double($0) / 1_000_000 })
        }
        csv.integer(timings?.draftTokens)
        csv.integer(timings?.draftAcceptedTokens)
        for nanos in [timings?.queueNanos, timings?.preprocessNanos, timings?.postprocessNanos] {
            csv.number(nanos.map { Double($0) / 1_000_000 })
        }
        csv.integer(timings?.cachedTokens)
        csv.number(timings?.batchSize)
        csv.number(Metric.networkClient.value(of: trace))
        csv.endRecord()
    }
}
