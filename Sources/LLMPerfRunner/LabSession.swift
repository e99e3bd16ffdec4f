import Foundation
import LLMPerfCore
import LLMPerfReport

/// What one optimization produced: its stored runs, the comparisons and the table rows (or why
/// it could not be measured).
public struct LabCaseResult: Sendable {
    public var name: String
    public var spec: LabSpec
    public var runs: [StoredRun] = []
    public var comparisons: [RunComparison] = []
    public var rows: [LabRow] = []
    public var failure: String?
    /// Each compared variant swept over `spec.sweep`'s concurrencies.
    public var sweeps: [SweepResult] = []

    public init(name: String, spec: LabSpec, runs: [StoredRun] = []) {
        self.name = name
        self.spec = spec
        self.runs = runs
    }

    /// The case as the lab's summary and report show it.
    public var summaryCase: LabSummary.Case {
        LabSummary.Case(
            name: name, optimization: spec.optimization, rows: rows, runs: runs.map(\.reportRun),
            comparisons: comparisons, failure: failure, sweeps: sweeps)
    }
}

/// One `llmperf lab` invocation: runs each case's variants (as `llmperf run` would, into one
/// batch) and compares them.
public final class LabSession: Sendable {
    public let pipeline: RunPipeline
    public let labels: [String]
    public let requests: Int?
    public let endpoint: LabEndpoint?
    /// `--device`: where every local transformer backend runs (`cpu`, `vulkan`, `vulkan:N`); nil leaves each
    /// scenario's own choice (the CPU unless it sets `options: {device: …}`).
    public let device: String?

    public init(
        pipeline: RunPipeline, labels: [String], requests: Int?, endpoint: LabEndpoint?, device: String? = nil
    ) {
        self.pipeline = pipeline
        self.labels = labels
        self.requests = requests
        self.endpoint = endpoint
        self.device = device
    }

    public var batchID: String { pipeline.batchID }
    public var interrupts: any Interrupts { pipeline.interrupts }
    var store: any RunRepository { pipeline.wiring.repository }

    /// A line on standard error.
    public func note(_ text: String) {
        FileHandle.standardError.write(Data("lab: \(text)\n".utf8))
    }

    /// The variants `labCase`'s comparisons use, in file order, each run once and stored; then
    /// the comparisons. A run that cannot start ends the case with `failure` set.
    public func run(_ labCase: LabCase) async -> LabCaseResult {
        var result = LabCaseResult(name: labCase.name, spec: labCase.spec)
        let needed = Set(labCase.spec.comparisons.flatMap { [$0.before, $0.after] })
        let plans = labCase.document.runs.filter { needed.contains($0.variant ?? "") }
        var prepared: [Scenario] = []
        for var plan in plans {
            if interrupts.interrupted { break }
            if let requests { plan.load.stop = .requests(requests) }
            if let device { plan = LabPlan.onDevice(plan, device: device) }
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
            prepared.append(plan)
            do {
                let measured = try await pipeline.execute(
                    plan, scenarioPath: labCase.document.path, labels: ["lab", "lab-\(labCase.name)"] + labels)
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
            try Self.compare(&result)
        } catch let error as CLIError {
            result.failure = Self.oneLine(error.message)
        } catch {
            result.failure = Self.oneLine("\(error)")
        }
        if !labCase.spec.sweep.isEmpty && result.failure == nil {
            await sweep(labCase, prepared, into: &result)
        }
        return result
    }

    /// Each compared variant measured at every concurrency of `lab: sweep:` (variant `NAME-cN`, labelled
    /// sweep, over its steady state), for the report's load curves. A point that cannot be measured ends
    /// that variant's curve with a note; the case's rows stand.
    func sweep(_ labCase: LabCase, _ plans: [Scenario], into result: inout LabCaseResult) async {
        var sweeping = pipeline
        sweeping.steadyState = true
        for plan in plans {
            let variant = plan.variant ?? plan.name
            var points: [SweepPoint] = []
            let rules: [GateRule]
            do {
                rules = try GateRule.rules(from: plan.slo)
            } catch {
                note("\(labCase.name): no sweep of \(variant): its slo cannot be read: \(error)")
                return
            }
            for concurrency in labCase.spec.sweep {
                if interrupts.interrupted { break }
                var point = SweepSession.plan(plan, over: .concurrency, load: Double(concurrency), length: .scenario)
                point.variant = "\(variant)-c\(concurrency)"
                do {
                    let measured = try await sweeping.execute(
                        point, scenarioPath: labCase.document.path,
                        labels: ["lab", "lab-\(labCase.name)", "sweep"] + labels)
                    guard measured.info.status == .completed else { break }
                    let traces = try store.traces(runID: measured.info.id, outputTextLimit: 0)
                    let swept = SweepPoint(
                        SweepMeasurement(
                            load: Double(concurrency), info: measured.info, traces: traces, summary: measured.summary),
                        rules: rules)
                    points.append(swept)
                    note(
                        "  \(variant) at c\(concurrency): \(SweepOver.format(swept.outputTokensPerSecond)) output tokens/s, "
                            + "TPOT p50 \(swept.tpot.map { SweepOver.format($0.p50) } ?? "–") ms")
                } catch {
                    note(
                        "\(labCase.name): \(variant) at c\(concurrency) could not be measured: "
                            + Self.oneLine((error as? CLIError)?.message ?? "\(error)"))
                    break
                }
            }
            let record = SweepRecord(
                batchID: batchID, name: variant, over: .concurrency, search: .points,
                status: interrupts.interrupted ? .interrupted : .completed, startedAt: Date())
            result.sweeps.append(SweepResult(record: record, points: points))
        }
    }

    /// One comparison per distinct "before" variant (its "after" variants as candidates, in
    /// the order the pairs list them), and a row per pair.
    public static func compare(_ result: inout LabCaseResult) throws {
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
    public static func oneLine(_ message: String) -> String {
        let lines = message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
            !$0.isEmpty
        }
        guard let first = lines.first else { return message }
        guard lines.count > 1, let last = lines.last else { return first }
        return first.hasSuffix(":") ? "\(first) \(last)" : "\(first) … \(last)"
    }
}

extension LabSession {
    /// Runs `cases` in order until an interruption, noting each case and its rows on standard error.
    public func run(cases: [LabCase]) async -> [LabCaseResult] {
        var results: [LabCaseResult] = []
        for (index, labCase) in cases.enumerated() {
            if interrupts.interrupted { break }
            note("[\(index + 1)/\(cases.count)] \(labCase.name): \(labCase.spec.optimization)")
            let result = await run(labCase)
            results.append(result)
            for row in result.rows {
                note(
                    "  \(row.optimization): \(row.moves) \(row.beforeText) → \(row.afterText), change "
                        + "\(row.changeText), significant: \(row.significanceText)")
            }
        }
        return results
    }

    /// The summary of `results`, and the error the lab ends with: interrupted (130), or a case
    /// that could not be measured (1).
    public func summary(of results: [LabCaseResult], skipped: [String]) -> (LabSummary, CLIError?) {
        let summary = LabSummary(
            batchID: batchID, results: results.map(\.summaryCase), skipped: skipped,
            interrupted: interrupts.interrupted)
        if interrupts.interrupted {
            return (summary, CLIError(message: "lab interrupted; what was measured is stored", code: .interrupted))
        }
        let failed = results.filter { $0.failure != nil }.map(\.name)
        guard !failed.isEmpty else { return (summary, nil) }
        return (summary, .failure("could not measure \(failed.joined(separator: ", ")); see the messages above"))
    }
}

extension LabCatalog {
    /// The cases to run and the names skipped: with an endpoint (`--target`) only the
    /// client-side ones run.
    public static func split(_ cases: [LabCase], endpoint: LabEndpoint?) -> (runnable: [LabCase], skipped: [String]) {
        guard endpoint != nil else { return (cases, []) }
        return (cases.filter { $0.spec.side == .client }, cases.filter { $0.spec.side == .server }.map(\.name))
    }
}
