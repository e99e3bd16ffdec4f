import Foundation
import LLMPerfCore
import LLMPerfReport

/// The loads of a sweep: closed-loop concurrencies or open-loop rates, in the order given.
public enum SweepLoads: Sendable, Equatable {
    case concurrency([Int])
    case rate([Double])

    public var count: Int {
        switch self {
        case .concurrency(let values): return values.count
        case .rate(let values): return values.count
        }
    }
}

/// One measured point of a sweep: a stored run at one load.
public struct SweepPoint: Sendable, Equatable, Codable {
    /// `c8` or `r2.5`: the run's variant name.
    public var load: String
    public var runID: String
    public var requests: Int
    public var failed: Int
    public var requestsPerSecond: Double
    public var outputTokensPerSecond: Double
    public var ttftP50: Double?
    public var ttftP99: Double?
    public var tpotP50: Double?
    public var tpotP99: Double?
    /// nil when the scenario has no slo section.
    public var sloMet: Bool?
    /// The rules that broke (as written in the scenario's slo), empty when met.
    public var brokenRules: [String]
    /// Requests/s grew by less than 5% over the previous point although the load went up: the endpoint
    /// (or the client) is saturated.
    public var saturated: Bool

    enum CodingKeys: String, CodingKey {
        case load, requests, failed, saturated
        case runID = "run_id"
        case requestsPerSecond = "requests_per_s"
        case outputTokensPerSecond = "output_tokens_per_s"
        case ttftP50 = "ttft_p50_ms"
        case ttftP99 = "ttft_p99_ms"
        case tpotP50 = "tpot_p50_ms"
        case tpotP99 = "tpot_p99_ms"
        case sloMet = "slo_met"
        case brokenRules = "broken_rules"
    }
}

/// What a sweep found: its points, and with an slo the highest load of the unbroken run of points from
/// the lowest that met it (`capacity`), and the first point that broke it.
public struct SweepResult: Sendable, Equatable, Codable {
    public var batchID: String
    public var points: [SweepPoint]
    public var capacity: SweepPoint?
    public var firstBroken: SweepPoint?

    enum CodingKeys: String, CodingKey {
        case points, capacity
        case batchID = "batch_id"
        case firstBroken = "first_broken"
    }

    public init(batchID: String, points: [SweepPoint]) {
        self.batchID = batchID
        self.points = points
        let broken = points.firstIndex { $0.sloMet == false }
        firstBroken = broken.map { points[$0] }
        let met = points[..<(broken ?? points.endIndex)].filter { $0.sloMet == true }
        capacity = met.last
    }
}

/// `llmperf sweep`: the scenario measured at each load in turn (one stored run per point, all in one batch,
/// labelled `sweep`), each point checked against the scenario's slo, then the curve as one table.
public struct SweepSession: Sendable {
    public var pipeline: RunPipeline
    public var labels: [String]
    /// Overrides `load.requests` at every point.
    public var requests: Int?
    public var json: Bool
    public var style: TerminalStyle

    public init(pipeline: RunPipeline, labels: [String], requests: Int?, json: Bool, style: TerminalStyle) {
        self.pipeline = pipeline
        self.labels = labels
        self.requests = requests
        self.json = json
        self.style = style
    }

    /// The scenario's one run at each load. A scenario with variants is refused (the points are the
    /// variants). Throws once everything measured is printed: interrupted (130) on Ctrl-C, a failure (1)
    /// when a point could not be measured.
    public func run(_ document: ScenarioDocument, loads: SweepLoads) async throws -> SweepResult {
        guard document.runs.count == 1, let base = document.runs.first else {
            throw CLIError.invalid(
                "\(document.path): a sweep measures one scenario at several loads, and this one has "
                    + "\(document.runs.count) variants; keep one (the points are the sweep's variants)")
        }
        let rules: [GateRule]
        do {
            rules = try GateRule.rules(from: base.slo)
        } catch {
            throw CLIError.invalid("\(document.path): its slo cannot be read: \(error)")
        }
        var points: [SweepPoint] = []
        var runtimeFailure: String?
        for plan in Self.plans(base, loads: loads, requests: requests) {
            if pipeline.interrupts.interrupted { break }
            do {
                let run = try await pipeline.execute(plan, scenarioPath: document.path, labels: ["sweep"] + labels)
                let point = try measure(run, rules: rules, previous: points.last)
                points.append(point)
                if !json {
                    printError("llmperf: sweep point \(point.load): \(Self.format(point.requestsPerSecond)) requests/s")
                }
            } catch let error as CLIError {
                runtimeFailure = error.message
                printError("llmperf: \(error.message)")
                break
            }
        }
        let result = SweepResult(batchID: pipeline.batchID, points: points)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(Self.render(result, hasSLO: !rules.isEmpty, style: style), terminator: "")
        }
        if pipeline.interrupts.interrupted {
            throw CLIError(message: "sweep interrupted; the points measured are stored", code: .interrupted)
        }
        if let runtimeFailure { throw CLIError(message: runtimeFailure, code: .failure) }
        return result
    }

    /// The scenario at each load: the variant named after the load, the rest as written.
    static func plans(_ base: Scenario, loads: SweepLoads, requests: Int?) -> [Scenario] {
        var plans: [Scenario] = []
        func add(_ name: String, _ shape: LoadShape) {
            var plan = base
            plan.variant = name
            plan.load.shape = shape
            if let requests { plan.load.stop = .requests(requests) }
            plans.append(plan)
        }
        switch loads {
        case .concurrency(let values):
            for value in values { add("c\(value)", .closed(concurrency: value)) }
        case .rate(let values):
            // An open-loop scenario keeps its arrival process and its cap on requests in flight.
            var arrival = ArrivalProcess.poisson
            var cap: Int?
            if case .open(_, let written, let maxConcurrency) = base.load.shape {
                (arrival, cap) = (written, maxConcurrency)
            }
            for value in values {
                add("r\(format(value))", .open(ratePerSecond: value, arrival: arrival, maxConcurrency: cap))
            }
        }
        return plans
    }

    private func measure(_ run: MeasuredRun, rules: [GateRule], previous: SweepPoint?) throws -> SweepPoint {
        let summary = run.summary
        var point = SweepPoint(
            load: run.info.variant ?? run.info.name, runID: run.info.id, requests: summary.requests,
            failed: summary.failed, requestsPerSecond: summary.requestsPerSecond,
            outputTokensPerSecond: summary.outputTokensPerSecond, ttftP50: summary.metrics[.ttft]?.p50,
            ttftP99: summary.metrics[.ttft]?.p99, tpotP50: summary.metrics[.tpot]?.p50,
            tpotP99: summary.metrics[.tpot]?.p99, sloMet: nil, brokenRules: [], saturated: false)
        if let previous {
            point.saturated = summary.requestsPerSecond < previous.requestsPerSecond * 1.05
        }
        if !rules.isEmpty {
            // The traces are read back from the database for the check only.
            let stored = try StoredRun.load(run.info.id, from: pipeline.wiring.repository)
            let goodput = rules.filter(\.isPerRequest)
            let evaluation = GateEvaluation(
                rules: rules, run: stored.traces, baseline: nil, alpha: 0.05,
                goodputRules: goodput.isEmpty ? nil : goodput)
            point.sloMet = evaluation.passed
            point.brokenRules = evaluation.results.filter { !$0.passed }.map(\.rule)
        }
        return point
    }

    static func format(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e9 { return String(Int(value)) }
        return String(format: value >= 100 ? "%.0f" : value >= 10 ? "%.1f" : "%.2f", value)
    }

    static func render(_ result: SweepResult, hasSLO: Bool, style: TerminalStyle) -> String {
        var headers = [
            "load", "req/s", "out tok/s", "TTFT p50", "TTFT p99", "TPOT p50", "TPOT p99", "failed",
        ]
        if hasSLO { headers.append("slo") }
        headers.append("")
        var table = TextTable(headers: headers)
        let ms = { (value: Double?) in value.map { format($0) } ?? "–" }
        for point in result.points {
            var cells: [TextTable.Cell] = [
                TextTable.Cell(point.load), TextTable.Cell(format(point.requestsPerSecond)),
                TextTable.Cell(format(point.outputTokensPerSecond)), TextTable.Cell(ms(point.ttftP50)),
                TextTable.Cell(ms(point.ttftP99)), TextTable.Cell(ms(point.tpotP50)), TextTable.Cell(ms(point.tpotP99)),
                TextTable.Cell(String(point.failed)),
            ]
            if hasSLO {
                cells.append(
                    point.sloMet == true
                        ? TextTable.Cell("met", style: .green) : TextTable.Cell("missed", style: .red))
            }
            var marks: [String] = []
            if point == result.capacity { marks.append("capacity") }
            if point.saturated { marks.append("saturated") }
            cells.append(TextTable.Cell(marks.joined(separator: ", ")))
            table.add(cells)
        }
        var out = style.apply(.bold, "sweep \(result.batchID) (times in ms)") + "\n" + table.render(style: style)
        if hasSLO {
            if let capacity = result.capacity {
                out += "capacity: \(capacity.load), \(format(capacity.requestsPerSecond)) requests/s, "
                out +=
                    "\(format(capacity.outputTokensPerSecond)) output tokens/s (the highest load met from the lowest)\n"
            } else {
                out += "capacity: none of the points met the slo\n"
            }
            if let broken = result.firstBroken {
                out += "first broken at \(broken.load) by \(broken.brokenRules.joined(separator: ", "))\n"
            }
        }
        return out
    }
}
