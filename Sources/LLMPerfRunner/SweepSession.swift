import Foundation
import LLMPerfCore
import LLMPerfReport

/// The loads of a sweep: closed-loop concurrencies or open-loop rates, in the order given.
public enum SweepLoads: Sendable, Equatable {
    case concurrency([Int])
    case rate([Double])

    public var count: Int { values.count }

    public var over: SweepOver {
        switch self {
        case .concurrency: return .concurrency
        case .rate: return .rate
        }
    }

    public var values: [Double] {
        switch self {
        case .concurrency(let values): return values.map(Double.init)
        case .rate(let values): return values
        }
    }
}

/// What a sweep measures: the loads listed, or a capacity search.
public enum SweepMode: Sendable, Equatable {
    case points(SweepLoads)
    case findCapacity(CapacitySearch)

    public var over: SweepOver {
        switch self {
        case .points(let loads): return loads.over
        case .findCapacity(let search): return search.over
        }
    }
}

/// How long each point is measured, overriding the scenario's `load.requests` or `load.duration`.
public enum SweepPointLength: Sendable, Equatable {
    case scenario
    case requests(Int)
    case duration(Duration)
}

/// `llmperf sweep`: the scenario measured at each load in turn (one stored run per point, all in one batch,
/// labelled `sweep`, the batch stored as a sweep), each point checked against the scenario's slo over its
/// intervals, then the curve as one table, the capacity and what bound it.
public struct SweepSession: Sendable {
    public var pipeline: RunPipeline
    public var labels: [String]
    public var length: SweepPointLength
    public var json: Bool
    public var style: TerminalStyle

    public init(
        pipeline: RunPipeline, labels: [String], length: SweepPointLength, json: Bool, style: TerminalStyle
    ) {
        self.pipeline = pipeline
        self.labels = labels
        self.length = length
        self.json = json
        self.style = style
    }

    /// Measures the sweep. A scenario with variants is refused (the points are the variants). Throws once
    /// everything measured is printed and stored: interrupted (130) on Ctrl-C, a failure (1) when a point
    /// could not be measured.
    @discardableResult
    public func run(_ document: ScenarioDocument, mode: SweepMode) async throws -> SweepResult {
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
        if case .findCapacity = mode, rules.isEmpty {
            printError(
                "llmperf: \(document.path) has no slo: the search finds where throughput stops growing (saturation)")
        }
        let store = pipeline.wiring.repository
        var record = SweepRecord(
            batchID: pipeline.batchID, name: base.name, over: mode.over,
            search: { if case .points = mode { return .points } else { return .findCapacity } }(), startedAt: Date())
        try store.saveSweep(record)
        var points: [SweepPoint] = []
        var runtimeFailure: String?
        var result = SweepResult(record: record, points: [])
        var listed = { if case .points(let loads) = mode { return loads.values } else { return [] } }()
        var stop: CapacitySearch.Stop?
        while !pipeline.interrupts.interrupted {
            var next: Double?
            switch mode {
            case .points:
                next = listed.isEmpty ? nil : listed.removeFirst()
            case .findCapacity(let search):
                switch search.next(after: result) {
                case .measure(let load): next = load
                case .stop(let reason): stop = reason
                }
            }
            guard let load = next else { break }
            do {
                let plan = Self.plan(base, over: mode.over, load: load, length: length)
                let run = try await pipeline.execute(plan, scenarioPath: document.path, labels: ["sweep"] + labels)
                // A point Ctrl-C cut short is stored but is not a point of the curve.
                guard run.info.status == .completed else { break }
                let traces = try store.traces(runID: run.info.id, outputTextLimit: 0)
                let point = SweepPoint(
                    SweepMeasurement(load: load, info: run.info, traces: traces, summary: run.summary), rules: rules)
                points.append(point)
                result = SweepResult(record: record, points: points)
                if !json { printError(Self.progressLine(point, result: result)) }
            } catch {
                let message = (error as? CLIError)?.message ?? "\(error)"
                runtimeFailure = message
                printError("llmperf: \(message)")
                break
            }
        }
        record.status =
            pipeline.interrupts.interrupted ? .interrupted : runtimeFailure != nil ? .failed : .completed
        if case .findCapacity = mode {
            record.stopReason = (pipeline.interrupts.interrupted ? .interrupted : stop)?.rawValue
        }
        record.endedAt = Date()
        try store.saveSweep(record)
        result = SweepResult(record: record, points: points)
        if json {
            print(try Self.json(result))
        } else {
            print(SweepText.render(result, style: style), terminator: "")
        }
        if pipeline.interrupts.interrupted {
            throw CLIError(message: "sweep interrupted; the points measured are stored", code: .interrupted)
        }
        if let runtimeFailure { throw CLIError(message: runtimeFailure, code: .failure) }
        return result
    }

    static func json(_ result: SweepResult) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(result), as: UTF8.self)
    }

    static func progressLine(_ point: SweepPoint, result: SweepResult) -> String {
        var line =
            "llmperf: sweep point \(point.variant): \(SweepOver.format(point.requestsPerSecond)) requests/s"
        if let slo = point.slo {
            line += slo.met ? ", slo met" : ", slo not met (\(slo.brokenRules.joined(separator: "; ")))"
        }
        if point.clientBound {
            line += ", client was the bottleneck (\(point.clientBottleneck.joined(separator: ", ")))"
        }
        return line
    }

    /// The scenario at each load listed: the variant named after the load, the rest as written.
    static func plans(_ base: Scenario, loads: SweepLoads, requests: Int?) -> [Scenario] {
        loads.values.map {
            plan(base, over: loads.over, load: $0, length: requests.map { .requests($0) } ?? .scenario)
        }
    }

    /// The scenario at one load. An open-loop scenario keeps its arrival process and its cap on requests in
    /// flight.
    static func plan(_ base: Scenario, over: SweepOver, load: Double, length: SweepPointLength) -> Scenario {
        var plan = base
        plan.variant = over.variant(load)
        switch over {
        case .concurrency:
            plan.load.shape = .closed(concurrency: Int(load))
        case .rate:
            var arrival = ArrivalProcess.poisson
            var cap: Int?
            if case .open(_, let written, let maxConcurrency) = base.load.shape {
                (arrival, cap) = (written, maxConcurrency)
            }
            plan.load.shape = .open(ratePerSecond: load, arrival: arrival, maxConcurrency: cap)
        }
        switch length {
        case .scenario: break
        case .requests(let n): plan.load.stop = .requests(n)
        case .duration(let duration): plan.load.stop = .duration(duration)
        }
        return plan
    }
}

/// A sweep read back from the database: its record and its completed points, analysed as when it ran.
public enum StoredSweep {
    public static func load(_ reference: String, from store: any RunRepository) throws -> SweepResult {
        let record: SweepRecord
        do {
            record = try SweepReference.parse(reference).resolve(in: try store.sweepRecords())
        } catch let error as RunReferenceError {
            throw CLIError.invalid(error.message)
        }
        var points: [SweepPoint] = []
        for info in try store.runs(inBatch: record.batchID) where info.status == .completed {
            guard let variant = info.variant, let load = record.over.load(ofVariant: variant) else { continue }
            let rules: [GateRule]
            do {
                rules = try GateRule.rules(from: info.slo)
            } catch {
                throw CLIError.failure("run \(info.id) of sweep \(record.batchID): its slo cannot be read: \(error)")
            }
            let traces = try store.traces(runID: info.id, outputTextLimit: 0)
            points.append(
                SweepPoint(
                    SweepMeasurement(load: load, info: info, traces: traces), rules: rules))
        }
        return SweepResult(record: record, points: points)
    }
}
