import LLMPerfCore

/// Which metrics the report tables show, and in what order, shared by every export.
enum ReportMetrics {
    /// `RunSummaryRenderer.metricOrder`, without `ttft_scheduled` for a closed-loop run (no
    /// schedule: it would repeat `ttft`), limited to the metrics the summary has.
    static func summaryOrder(_ summary: RunSummary) -> [Metric] {
        RunSummaryRenderer.metricOrder.filter { metric in
            guard summary.metrics[metric] != nil else { return false }
            return metric != .ttftScheduled || summary.metrics[.queue] != nil
        }
    }
}
