import Foundation
import LLMPerfCore
import LLMPerfReport
import LLMPerfStore

/// What one optimization produced: its stored runs, the comparisons and the table rows (or why
/// it could not be measured).
struct LabCaseResult {
    var name: String
    var spec: LabSpec
    var runs: [StoredRun] = []
    var comparisons: [RunComparison] = []
    var rows: [LabRow] = []
    var failure: String?
}

/// One `llmperf lab` invocation: runs each case's variants (as `llmperf run` would, into one
/// batch) and compares them.
final class LabSession {
    let store: RunStore
    let batchID: String
    let labels: [String]
    let requests: Int?
    let endpoint: LabEndpoint?
    let gitCommit: String?
    let interactive: Bool
    let interrupts: InterruptHandler

    init(
        store: RunStore, batchID: String, labels: [String], requests: Int?, endpoint: LabEndpoint?,
        gitCommit: String?, interactive: Bool, interrupts: InterruptHandler
    ) {
        self.store = store
        self.batchID = batchID
        self.labels = labels
        self.requests = requests
        self.endpoint = endpoint
        self.gitCommit = gitCommit
        self.interactive = interactive
        self.interrupts = interrupts
    }

    /// A line on standard error.
    func note(_ text: String) {
        FileHandle.standardError.write(Data("lab: \(text)\n".utf8))
    }

    /// The variants `labCase`'s comparisons use, in file order, each run once and stored; then
    /// the comparisons. A run that cannot start ends the case with `failure` set.
    func run(_ labCase: LabCase) async -> LabCaseResult {
        var result = LabCaseResult(name: labCase.name, spec: labCase.spec)
        let needed = Set(labCase.spec.comparisons.flatMap { [$0.before, $0.after] })
        let plans = labCase.document.runs.filter { needed.contains($0.variant ?? "") }
        for var plan in plans {
            if interrupts.interrupted { break }
            if let requests { plan.load.stop = .requests(requests) }
            if let endpoint {
                if !plan.workload.extraBody.isEmpty && plan.variant == plans.first?.variant {
                    note(
                        "--target: \(labCase.name)'s workload.extra_body is not sent (other endpoints may refuse "
                            + "it): answers take their natural length")
                }
                plan = LabPlan.retargeted(
                    plan, url: endpoint.url, shownURL: endpoint.shownURL, model: endpoint.model,
                    headers: endpoint.headers)
            }
            let execution = ScenarioExecution(
                scenario: plan, scenarioPath: labCase.document.path, batchID: batchID,
                labels: ["lab", "lab-\(labCase.name)"] + labels, gitCommit: gitCommit, store: store,
                interactive: interactive, interrupts: interrupts)
            do {
                let measured = try await execution.execute()
                // The comparisons and the report read the traces back from the database.
                result.runs.append(try StoredRun.load(measured.info.id, from: store, outputTextLimit: 512))
            } catch let error as CLIError {
                FileHandle.standardError.write(Data("llmperf: \(error.message)\n".utf8))
                result.failure = Self.oneLine(error.message)
                return result
            } catch {
                result.failure = Self.oneLine("\(error)")
                return result
            }
        }
        if interrupts.interrupted { return result }
        do {
            try compare(&result)
        } catch let error as CLIError {
            result.failure = Self.oneLine(error.message)
        } catch {
            result.failure = Self.oneLine("\(error)")
        }
        return result
    }

    /// One comparison per distinct "before" variant (its "after" variants as candidates, in
    /// the order the pairs list them), and a row per pair.
    func compare(_ result: inout LabCaseResult) throws {
        let spec = result.spec
        func stored(_ variant: String) -> StoredRun? { result.runs.first { $0.info.variant == variant } }
        var baselines: [String] = []
        for pair in spec.comparisons where !baselines.contains(pair.before) { baselines.append(pair.before) }
        var rowsByPair: [Int: LabRow] = [:]
        for baseline in baselines {
            guard let before = stored(baseline) else { continue }
            var afters: [String] = []
            for pair in spec.comparisons where pair.before == baseline && !afters.contains(pair.after) {
                afters.append(pair.after)
            }
            let candidates = afters.compactMap(stored)
            guard !candidates.isEmpty else { continue }
            var comparison = try makeComparison([before] + candidates)
            // The variants of a lab scenario differ on purpose: no "different workload" warnings.
            for index in comparison.comparisons.indices {
                comparison.comparisons[index].warnings.removeAll { $0.kind == .workloadDiffers }
            }
            result.comparisons.append(comparison)
            for (index, pair) in spec.comparisons.enumerated() where pair.before == baseline {
                let candidate = comparison.comparisons.first { $0.candidate == pair.after }
                let row = candidate?.rows.first { $0.measure == spec.metric.measure }
                rowsByPair[index] = LabRow(
                    scenario: result.name, spec: spec, pair: pair, row: row, options: comparison.options)
            }
        }
        result.rows = spec.comparisons.indices.compactMap { rowsByPair[$0] }
    }

    /// The first line of a message and, for a multi-line one (a backend's log tail), its last
    /// non-empty line.
    static func oneLine(_ message: String) -> String {
        let lines = message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
            !$0.isEmpty
        }
        guard let first = lines.first else { return message }
        guard lines.count > 1, let last = lines.last else { return first }
        return first.hasSuffix(":") ? "\(first) \(last)" : "\(first) … \(last)"
    }
}
