import Dispatch
import Foundation
import LLMPerfCore
import LLMPerfReport

/// A run loaded from the database with its requests and summary, ready to compare, gate
/// or report.
public struct StoredRun: Sendable {
    public var info: RunInfo
    public var traces: [RequestTrace]
    public var summary: RunSummary

    /// A run measured over its steady state keeps the requests inside its window only (the others stay
    /// in the database).
    public init(info: RunInfo, traces: [RequestTrace], summary: RunSummary? = nil) {
        self.info = info
        let counted = info.counted(traces)
        self.traces = counted.traces
        self.summary = summary ?? counted.summary
    }

    /// A new id for the runs of one invocation (the variants of `run`, the cases of `lab`).
    public static func newBatchID() -> String { "b" + String(UUID().uuidString.prefix(8)).lowercased() }

    /// Loads one run; `outputTextLimit` as in `RunRepository.traces` (0 when only statistics are needed).
    public static func load(_ reference: String, from store: any RunRepository, outputTextLimit: Int? = 0) throws
        -> StoredRun
    {
        let info = try resolveRun(reference, in: store)
        return StoredRun(info: info, traces: try store.traces(runID: info.id, outputTextLimit: outputTextLimit))
    }

    /// Resolves every reference first (so a bad one fails fast), then reads the runs in
    /// parallel and summarises them one after the other (each summary's sorted samples are
    /// the largest transient allocation: one at a time keeps the peak lower).
    public static func loadAll(_ references: [String], from store: any RunRepository, outputTextLimit: Int? = 0)
        throws -> [StoredRun]
    {
        let infos = try references.map { try resolveRun($0, in: store) }
        let slots = LoadSlots(count: infos.count)
        DispatchQueue.concurrentPerform(iterations: infos.count) { i in
            slots.set(i, Result { try store.traces(runID: infos[i].id, outputTextLimit: outputTextLimit) })
        }
        return try zip(infos, slots.values()).map { info, result in StoredRun(info: info, traces: try result.get()) }
    }

    /// The label a comparison shows for this run: the variant name, else `name (id)`.
    public var comparisonLabel: String { info.variant ?? "\(info.name) (\(info.id))" }

    public var comparisonInput: ComparisonInput {
        ComparisonInput(label: comparisonLabel, traces: traces, workload: RunWorkload(info: info), summary: summary)
    }

    public var reportRun: ReportRun { ReportRun(info: info, traces: traces, summary: summary) }

    /// The median of each segment of its counted requests' waterfalls; nil when no request had the
    /// server's phases. One number per request and segment while it is computed.
    public var breakdown: LatencyBreakdown.Summary? { LatencyBreakdown.Summary(traces) }
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

/// Resolves a run reference; an unknown or ambiguous one is invalid input (exit 2).
public func resolveRun(_ reference: String, in store: any RunRepository) throws -> RunInfo {
    do {
        return try store.resolveRun(reference)
    } catch let error as RunRepositoryError {
        switch error {
        case .invalidReference(let message): throw CLIError.invalid(message)
        case .failure(let message): throw CLIError.failure(message)
        }
    }
}

/// Compares stored runs (the first is the baseline); SLOs of the baseline add goodput rows.
public func makeComparison(
    _ runs: [StoredRun], alpha: Double = 0.05, seed: UInt64 = 1, minimumChange: Double = 0.02
) throws -> RunComparison {
    if let problem = runs[0].info.sloProblem {
        FileHandle.standardError.write(
            Data("llmperf: baseline run \(runs[0].info.id): \(problem); goodput is left out of the comparison\n".utf8))
    }
    do {
        return try RunComparison(
            runs: runs.map(\.comparisonInput), slo: runs[0].info.slo,
            options: RunComparison.Options(alpha: alpha, seed: seed, minimumRelativeChange: minimumChange))
    } catch {
        throw CLIError.failure(error.message)
    }
}

/// "Where it moved" for a comparison of stored runs: each candidate's median bar against the baseline's,
/// where both had the server's phases; labelled as the comparison labels them.
public func makeBreakdownComparisons(_ runs: [StoredRun], comparison: RunComparison) -> [BreakdownComparison] {
    BreakdownComparison.pairs(labels: comparison.runs.map(\.label), breakdowns: runs.map(\.breakdown))
}

/// Labels are single words: no spaces or commas (they are listed comma-separated). Returns the
/// complaint about the first bad one.
public func labelProblem(_ labels: [String]) -> String? {
    for label in labels where label.isEmpty || label.contains(where: { $0.isWhitespace || $0 == "," }) {
        return "a label may not be empty or hold spaces or commas: '\(label)'"
    }
    return nil
}
