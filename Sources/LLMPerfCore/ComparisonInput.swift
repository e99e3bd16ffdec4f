import Foundation

/// One run handed to a comparison.
public struct ComparisonInput: Sendable {
    public var label: String
    public var traces: [RequestTrace]
    public var workload: RunWorkload?
    /// `RunSummary(traces: traces)` when the caller already has it (it is the costliest part of
    /// a large comparison); computed when nil.
    public var summary: RunSummary?

    public init(label: String, traces: [RequestTrace], workload: RunWorkload? = nil, summary: RunSummary? = nil) {
        self.label = label
        self.traces = traces
        self.workload = workload
        self.summary = summary
    }
}
