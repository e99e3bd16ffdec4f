import Foundation
import LLMPerfCore
import LLMPerfReport

/// `llmperf compare sweep:A sweep:B`: two load curves point by point (the loads both measured) and their
/// capacities. Each latency's change is the 95% bootstrap interval of the difference of its p50 or p99
/// (B − A): `worse` or `better` only when the interval excludes 0 and the change is at least `minimumChange`
/// of the baseline (2%, as `compare` of runs), `~` otherwise.
public struct SweepComparison: Sendable, Codable {
    public struct Change: Sendable, Codable {
        public var metric: String
        public var baseline: Double?
        public var candidate: Double?
        public var interval: BootstrapInterval?
        /// `better`, `worse` or `~`.
        public var verdict: String
    }

    public struct Row: Sendable, Codable {
        public var load: Double
        public var variant: String
        public var baselineRun: String
        public var candidateRun: String
        public var baselineRequestsPerSecond: Double
        public var candidateRequestsPerSecond: Double
        public var changes: [Change]

        enum CodingKeys: String, CodingKey {
            case load, variant, changes
            case baselineRun = "baseline_run"
            case candidateRun = "candidate_run"
            case baselineRequestsPerSecond = "baseline_requests_per_s"
            case candidateRequestsPerSecond = "candidate_requests_per_s"
        }
    }

    public var baseline: SweepResult
    public var candidate: SweepResult
    public var rows: [Row]
    /// Loads only one of the two measured.
    public var unmatched: [String]

    public static func make(
        _ baselineReference: String, _ candidateReference: String, store: any RunRepository,
        minimumChange: Double = 0.02
    ) throws -> SweepComparison {
        let a = try StoredSweep.load(baselineReference, from: store)
        let b = try StoredSweep.load(candidateReference, from: store)
        guard a.record.over == b.record.over else {
            throw CLIError.invalid(
                "sweep \(a.record.batchID) is over \(a.record.over.rawValue) and \(b.record.batchID) over "
                    + "\(b.record.over.rawValue): their points are not comparable")
        }
        var rows: [Row] = []
        let bootstrap = Bootstrap()
        for pa in a.points {
            guard let pb = b.points.first(where: { $0.load == pa.load }) else { continue }
            let ta = try store.traces(runID: pa.runID, outputTextLimit: 0)
            let tb = try store.traces(runID: pb.runID, outputTextLimit: 0)
            var changes: [Change] = []
            for metric in [Metric.ttft, .tpot] {
                func values(_ traces: [RequestTrace]) -> [Double] {
                    traces.compactMap { !$0.isWarmup && $0.succeeded ? metric.value(of: $0) : nil }.sorted()
                }
                let (va, vb) = (values(ta), values(tb))
                for quantile in [0.5, 0.99] {
                    let interval = bootstrap.quantileDifference(
                        baselineSorted: va, candidateSorted: vb, quantile: quantile)
                    let verdict: String
                    let base = va.isEmpty ? 0 : Quantile.of(sorted: va, quantile)
                    if let interval, interval.excludesZero, abs(interval.estimate) >= minimumChange * abs(base) {
                        verdict = interval.lower > 0 ? "worse" : "better"
                    } else {
                        verdict = "~"
                    }
                    changes.append(
                        Change(
                            metric: "\(metric.rawValue).p\(Int(quantile * 100))",
                            baseline: va.isEmpty ? nil : Quantile.of(sorted: va, quantile),
                            candidate: vb.isEmpty ? nil : Quantile.of(sorted: vb, quantile), interval: interval,
                            verdict: verdict))
                }
            }
            rows.append(
                Row(
                    load: pa.load, variant: pa.variant, baselineRun: pa.runID, candidateRun: pb.runID,
                    baselineRequestsPerSecond: pa.requestsPerSecond, candidateRequestsPerSecond: pb.requestsPerSecond,
                    changes: changes))
        }
        let matched = Set(rows.map(\.load))
        let unmatched = (a.points + b.points).filter { !matched.contains($0.load) }.map(\.variant)
        return SweepComparison(baseline: a, candidate: b, rows: rows, unmatched: Array(Set(unmatched)).sorted())
    }

    public func render(style: TerminalStyle) -> String {
        var headers = ["load", "req/s"]
        let metrics = rows.first?.changes.map(\.metric) ?? ["ttft.p50", "ttft.p99", "tpot.p50", "tpot.p99"]
        headers += metrics
        var table = TextTable(headers: headers)
        func number(_ value: Double?) -> String { value.map(SweepOver.format) ?? "–" }
        for row in rows {
            var cells = [
                TextTable.Cell(row.variant),
                TextTable.Cell(
                    "\(number(row.baselineRequestsPerSecond)) → \(number(row.candidateRequestsPerSecond))"),
            ]
            for change in row.changes {
                let text = "\(number(change.baseline)) → \(number(change.candidate)) \(change.verdict)"
                cells.append(
                    TextTable.Cell(
                        text, style: change.verdict == "worse" ? .red : change.verdict == "better" ? .green : nil))
            }
            table.add(cells)
        }
        var out =
            style.apply(
                .bold,
                "compare sweep \(baseline.record.name) (\(baseline.record.batchID)) → \(candidate.record.name) "
                    + "(\(candidate.record.batchID)), times in ms") + "\n"
        out += table.render(style: style)
        if !unmatched.isEmpty { out += "measured by one sweep only: \(unmatched.joined(separator: ", "))\n" }
        let over = baseline.record.over
        func capacity(_ sweep: SweepResult) -> String {
            guard let point = sweep.capacity else { return "none" }
            var text = "\(over.text(point.load)), \(number(point.requestsPerSecond)) requests/s"
            if sweep.binding == .client { text += " (client-bound)" }
            return text
        }
        out += "capacity: \(capacity(baseline)) → \(capacity(candidate))\n"
        return out
    }
}
