import Foundation
import LLMPerfCore

/// One run as the exports see it: its metadata, every recorded request, its summary, and its median bar
/// when its server reported its own phases.
public struct ReportRun: Sendable {
    public var info: RunInfo
    public var traces: [RequestTrace]
    public var summary: RunSummary
    /// The run's scrapes of the server's metrics endpoint (`target.metrics`), when it took any.
    public var scrapes: [MetricsScrape] = []
    /// The server's view beside the client's over every request of the run (its steady-state window or not: the
    /// server saw them all); nil without scrapes.
    public var reconciliation: MetricsReconciliation?
    /// The median of each segment of the requests' waterfalls (`LatencyBreakdown.Summary`); nil when no
    /// request has one.
    public var breakdown: LatencyBreakdown.Summary?

    /// `summary` defaults to `RunSummary(traces:)`; pass it when it is already computed. The breakdown
    /// comes from the traces.
    public init(info: RunInfo, traces: [RequestTrace], summary: RunSummary? = nil) {
        self.info = info
        self.traces = traces
        self.summary = summary ?? RunSummary(traces: traces)
        self.breakdown = LatencyBreakdown.Summary(traces)
    }

    /// How tables and legends name the run: `name/variant (id)`.
    public var label: String { "\(info.displayName) (\(info.id))" }
}

/// Everything `llmperf report` renders: one to eight runs (the first is the baseline), the
/// comparison of the others against it when there are several, and gate results when a gate ran.
public struct ReportInput: Sendable {
    public static let maximumRuns = 8

    public var runs: [ReportRun]
    public var comparison: RunComparison?
    /// The gate's results for the last run, when a gate ran.
    public var gate: GateEvaluation?
    public var title: String

    public init(
        runs: [ReportRun], comparison: RunComparison? = nil, gate: GateEvaluation? = nil, title: String? = nil
    ) {
        self.runs = runs
        self.comparison = comparison
        self.gate = gate
        self.title = title ?? ReportInput.defaultTitle(runs)
    }

    static func defaultTitle(_ runs: [ReportRun]) -> String {
        guard let first = runs.first else { return "llmperf report" }
        if runs.count == 1 { return "llmperf report: \(first.info.displayName) (\(first.info.id))" }
        return "llmperf report: " + runs.map(\.info.displayName).joined(separator: " vs ")
    }
}
