import Foundation
import LLMPerfCore
import LLMPerfStore

/// A run loaded from the database with its requests and summary, ready to compare, gate
/// or report.
struct StoredRun {
    var info: RunInfo
    var traces: [RequestTrace]
    var summary: RunSummary

    static func load(_ reference: String, from store: RunStore) throws -> StoredRun {
        let info = try resolveRun(reference, in: store)
        let traces = try store.traces(runID: info.id)
        return StoredRun(info: info, traces: traces, summary: RunSummary(traces: traces))
    }

    /// The label a comparison shows for this run: the variant name, else `name (id)`.
    var comparisonLabel: String { info.variant ?? "\(info.name) (\(info.id))" }

    var comparisonInput: ComparisonInput {
        ComparisonInput(label: comparisonLabel, traces: traces, workload: RunWorkload(info: info), summary: summary)
    }
}

/// How a report or comparison is printed.
enum OutputFormat: String, CaseIterable {
    case text, md, json, csv, html
}
