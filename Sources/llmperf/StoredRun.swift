import Foundation
import LLMPerfCore
import LLMPerfStore

/// A run loaded from the database with its requests and summary, ready to compare, gate
/// or report.
struct StoredRun {
    var info: RunInfo
    var traces: [RequestTrace]
    var summary: RunSummary

    /// Loads one run; `outputTextLimit` as in `RunStore.traces` (0 when only statistics are needed).
    /// A new id for the runs of one invocation (the variants of `run`, the cases of `lab`).
    static func newBatchID() -> String { "b" + String(UUID().uuidString.prefix(8)).lowercased() }

    static func load(_ reference: String, from store: RunStore, outputTextLimit: Int? = 0) throws -> StoredRun {
        let info = try resolveRun(reference, in: store)
        let traces = try store.traces(runID: info.id, outputTextLimit: outputTextLimit)
        return StoredRun(info: info, traces: traces, summary: RunSummary(traces: traces))
    }

    /// Resolves every reference first (so a bad one fails fast), then reads the runs in
    /// parallel and summarises them one after the other (each summary's sorted samples are
    /// the largest transient allocation: one at a time keeps the peak lower).
    static func loadAll(_ references: [String], from store: RunStore, outputTextLimit: Int? = 0) throws
        -> [StoredRun]
    {
        let infos = try references.map { try resolveRun($0, in: store) }
        let slots = LoadSlots(count: infos.count)
        DispatchQueue.concurrentPerform(iterations: infos.count) { i in
            slots.set(
                i,
                Result { try store.traces(runID: infos[i].id, outputTextLimit: outputTextLimit) })
        }
        return try zip(infos, slots.values()).map { info, result in
            let traces = try result.get()
            return StoredRun(info: info, traces: traces, summary: RunSummary(traces: traces))
        }
    }
}

/// Results filled in by concurrent loaders.
private final class LoadSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<[RequestTrace], any Error>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<[RequestTrace], any Error>) {
        lock.lock()
        results[index] = result
        lock.unlock()
    }

    func values() -> [Result<[RequestTrace], any Error>] {
        lock.lock()
        defer { lock.unlock() }
        return results.map { $0! }
    }
}

extension StoredRun {
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
