import LLMPerfCore

/// Which metrics the report tables show, and in what order, shared by every export.
enum ReportMetrics {
    /// `RunSummaryRenderer.metricOrder`, limited to the metrics the summary has and shows (see
    /// `shows`).
    static func summaryOrder(_ summary: RunSummary) -> [Metric] {
        RunSummaryRenderer.metricOrder.filter { shows($0, in: summary) }
    }

    /// Whether a summary table shows `metric`: it has values, and it says something of its own.
    /// `ttft_scheduled` needs an open loop (without a schedule it repeats `ttft`), and `ttfa`
    /// needs visible reasoning (without it, the first answer token is the first token), and
    /// `usage_diff` needs a request where usage and the arrived tokens disagree.
    static func shows(_ metric: Metric, in summary: RunSummary) -> Bool {
        guard summary.metrics[metric] != nil else { return false }
        switch metric {
        case .ttftScheduled: return summary.metrics[.queue] != nil
        case .ttfa: return summary.metrics[.reasoningTime] != nil
        case .usageDiff:
            guard let diff = summary.metrics[.usageDiff] else { return false }
            return diff.min != 0 || diff.max != 0
        default: return true
        }
    }
}
