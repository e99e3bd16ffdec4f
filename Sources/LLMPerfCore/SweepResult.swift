import Foundation

/// What a sweep varies: the closed loop's concurrency or the open loop's request rate.
public enum SweepOver: String, Sendable, Equatable, Codable {
    case concurrency
    case rate

    /// The variant name of a point at `load`: `c8`, `r2.5`, `r0.50`.
    public func variant(_ load: Double) -> String {
        switch self {
        case .concurrency: return "c\(Int(load))"
        case .rate: return "r" + SweepOver.format(load)
        }
    }

    /// The load a point's variant name gives (`c8` → 8, `r2.5` → 2.5), nil when it is not one.
    public func load(ofVariant variant: String) -> Double? {
        guard let first = variant.first, first == (self == .concurrency ? "c" : "r") else { return nil }
        guard let value = Double(variant.dropFirst()), value > 0, value.isFinite else { return nil }
        return value
    }

    /// How loads are written in tables: `8`, `2.5/s`.
    public func text(_ load: Double) -> String {
        self == .concurrency ? "c\(Int(load))" : SweepOver.format(load) + "/s"
    }

    /// A whole number without decimals, else 2 decimals below 10, 1 below 100.
    public static func format(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e9 { return String(Int(value)) }
        return String(format: value >= 100 ? "%.0f" : value >= 10 ? "%.1f" : "%.2f", value)
    }
}

/// A stored sweep: its points are the runs of its batch.
public struct SweepRecord: Sendable, Equatable, Codable {
    public enum Search: String, Sendable, Equatable, Codable {
        /// The loads the user listed.
        case points
        /// `--find-capacity`: doubling, then bisection (`CapacitySearch`).
        case findCapacity = "find_capacity"
    }

    /// The batch id of its runs (`b…`): the sweep's id.
    public var batchID: String
    /// The scenario's name.
    public var name: String
    public var over: SweepOver
    public var search: Search
    public var status: RunStatus
    /// Why a search stopped (`CapacitySearch.Stop`'s raw value), nil for listed points.
    public var stopReason: String?
    public var startedAt: Date
    public var endedAt: Date?

    public init(
        batchID: String, name: String, over: SweepOver, search: Search, status: RunStatus = .running,
        stopReason: String? = nil, startedAt: Date, endedAt: Date? = nil
    ) {
        self.batchID = batchID
        self.name = name
        self.over = over
        self.search = search
        self.status = status
        self.stopReason = stopReason
        self.startedAt = startedAt
        self.endedAt = endedAt
    }

    enum CodingKeys: String, CodingKey {
        case name, over, search, status
        case batchID = "batch_id"
        case stopReason = "stop_reason"
        case startedAt = "started_at"
        case endedAt = "ended_at"
    }
}

/// A measured run at one load, as a sweep needs it: the run, its traces and summary.
public struct SweepMeasurement: Sendable {
    public var load: Double
    public var info: RunInfo
    public var traces: [RequestTrace]
    public var summary: RunSummary

    /// A run measured over its steady state keeps the requests of its window only.
    public init(load: Double, info: RunInfo, traces: [RequestTrace], summary: RunSummary? = nil) {
        self.load = load
        self.info = info
        let counted = info.counted(traces)
        self.traces = counted.traces
        self.summary = summary ?? counted.summary
    }
}

/// One point of a sweep: a stored run at one load, what it measured, and what the sweep made of it.
public struct SweepPoint: Sendable, Equatable, Codable {
    /// The concurrency, or the rate per second.
    public var load: Double
    /// `c8` or `r2.5`: the run's variant name.
    public var variant: String
    public var runID: String
    public var status: RunStatus
    public var requests: Int
    public var failed: Int
    public var requestsPerSecond: Double
    public var outputTokensPerSecond: Double
    /// Output tokens per second of one request (1000 / its TPOT), the median over requests: the speed a
    /// user sees, against which the total tokens/s is traded.
    public var tokensPerSecondPerUser: Double?
    public var ttft: DistributionSummary?
    public var tpot: DistributionSummary?
    /// The p50 and p99 of TTFT and TPOT with their 95% bootstrap intervals.
    public var ttftP50Interval: BootstrapInterval?
    public var ttftP99Interval: BootstrapInterval?
    public var tpotP50Interval: BootstrapInterval?
    public var tpotP99Interval: BootstrapInterval?
    /// The fraction of measured requests meeting every per-request rule of the slo (nil: the slo has none).
    public var goodput: Double?
    /// The slo checked over each rule's interval (nil: the scenario has no slo).
    public var slo: SLOIntervalCheck?
    /// Throughput (output tokens/s, or requests/s for an endpoint that generates nothing) grew by less than
    /// 5% per doubling of load over the highest good point at least a quarter lower in load.
    public var saturated: Bool
    public var clientLoad: ClientLoad?
    /// The steady-state window the point's statistics count (nil: every request, the run had none).
    public var steadyWindow: SteadyStateWindow?
    /// Open loop without a cap on requests in flight: how late requests went out (the `queue` metric), p99.
    public var sendLagP99: Double?
    /// The same, p50.
    public var sendLagP50: Double?
    /// Why the client, not the server, was the bottleneck here (empty: it was not).
    public var clientBottleneck: [String]

    enum CodingKeys: String, CodingKey {
        case load, variant, status, requests, failed, ttft, tpot, goodput, slo, saturated
        case runID = "run_id"
        case requestsPerSecond = "requests_per_s"
        case outputTokensPerSecond = "output_tokens_per_s"
        case tokensPerSecondPerUser = "tokens_per_s_per_user"
        case ttftP50Interval = "ttft_p50_interval"
        case ttftP99Interval = "ttft_p99_interval"
        case tpotP50Interval = "tpot_p50_interval"
        case tpotP99Interval = "tpot_p99_interval"
        case clientLoad = "client"
        case steadyWindow = "steady_window"
        case sendLagP99 = "send_lag_p99_ms"
        case sendLagP50 = "send_lag_p50_ms"
        case clientBottleneck = "client_bottleneck"
    }

    /// Met the slo over its intervals (true without an slo).
    public var sloMet: Bool { slo?.met ?? true }
    public var clientBound: Bool { !clientBottleneck.isEmpty }
    /// Good requests per second (requests/s times goodput), nil without per-request rules.
    public var goodRequestsPerSecond: Double? { goodput.map { $0 * requestsPerSecond } }

    /// A point from its values (tests, and readers of `--json`).
    public init(
        load: Double, variant: String, runID: String, requestsPerSecond: Double, outputTokensPerSecond: Double = 0,
        slo: SLOIntervalCheck? = nil, clientLoad: ClientLoad? = nil, sendLagP99: Double? = nil,
        status: RunStatus = .completed, requests: Int = 0, failed: Int = 0
    ) {
        self.load = load
        self.variant = variant
        self.runID = runID
        self.status = status
        self.requests = requests
        self.failed = failed
        self.requestsPerSecond = requestsPerSecond
        self.outputTokensPerSecond = outputTokensPerSecond
        self.slo = slo
        self.saturated = false
        self.clientLoad = clientLoad
        self.sendLagP99 = sendLagP99
        self.clientBottleneck = clientLoad?.bottleneckReasons(sendLagP99: sendLagP99) ?? []
    }

    /// The point of one measured run (saturation is set by `SweepResult`, which sees the others).
    public init(_ measurement: SweepMeasurement, rules: [GateRule]) {
        let summary = measurement.summary
        load = measurement.load
        variant = measurement.info.variant ?? measurement.info.name
        runID = measurement.info.id
        status = measurement.info.status
        requests = summary.requests
        failed = summary.failed
        requestsPerSecond = summary.requestsPerSecond
        outputTokensPerSecond = summary.outputTokensPerSecond
        ttft = summary.metrics[.ttft]
        tpot = summary.metrics[.tpot]
        let perUser = measurement.traces.compactMap { trace -> Double? in
            guard !trace.isWarmup, trace.succeeded, let tpot = Metric.tpot.value(of: trace), tpot > 0 else {
                return nil
            }
            return 1000 / tpot
        }.sorted()
        tokensPerSecondPerUser = perUser.isEmpty ? nil : Quantile.of(sorted: perUser, 0.5)
        func intervals(_ metric: Metric) -> (BootstrapInterval?, BootstrapInterval?) {
            let values = measurement.traces.compactMap { trace in
                !trace.isWarmup && trace.succeeded ? metric.value(of: trace) : nil
            }.sorted()
            let bootstrap = Bootstrap()
            return (
                bootstrap.quantileInterval(sorted: values, quantile: 0.5),
                bootstrap.quantileInterval(sorted: values, quantile: 0.99)
            )
        }
        (ttftP50Interval, ttftP99Interval) = intervals(.ttft)
        (tpotP50Interval, tpotP99Interval) = intervals(.tpot)
        let perRequest = rules.filter(\.isPerRequest)
        if perRequest.isEmpty {
            goodput = nil
        } else {
            let counts = GateRule.goodRequests(in: measurement.traces, rules: perRequest)
            goodput = counts.measured > 0 ? Double(counts.good) / Double(counts.measured) : nil
        }
        slo = rules.isEmpty ? nil : SLOIntervalCheck(rules: rules, traces: measurement.traces)
        saturated = false
        clientLoad = measurement.info.clientLoad
        steadyWindow = measurement.info.steadyWindow
        // Only without a cap on requests in flight is the queue time the client's lateness alone.
        let uncapped = LoadSpec.openLoopUncapped(loadDescription: measurement.info.loadDescription)
        sendLagP99 = uncapped ? summary.metrics[.queue]?.p99 : nil
        sendLagP50 = uncapped ? summary.metrics[.queue]?.p50 : nil
        clientBottleneck = clientLoad?.bottleneckReasons(sendLagP99: sendLagP99) ?? []
    }
}

/// A sweep's points in load order, and what they say: the capacity (the highest load, counting up from
/// the lowest, before the first point that broke the slo over its interval, saturated, or found the
/// client the bottleneck) and what bound it.
public struct SweepResult: Sendable, Equatable, Codable {
    public enum Binding: String, Sendable, Equatable, Codable {
        /// A rule of the slo broke (or was unsure) at the first bad point.
        case slo
        /// Throughput stopped growing.
        case saturation
        /// The client was the bottleneck: the capacity is a lower bound of the endpoint's.
        case client
        /// No measured point was bad: the capacity is at least the highest load measured.
        case none
    }

    public var record: SweepRecord
    /// In load order.
    public var points: [SweepPoint]
    public var capacity: SweepPoint?
    public var firstBad: SweepPoint?
    public var binding: Binding
    /// At the first bad point: the rules broken (`SLOIntervalCheck.RuleCheck.text`), the saturation, or the
    /// client's reasons.
    public var bindingReasons: [String]

    enum CodingKeys: String, CodingKey {
        case record = "sweep"
        case points, capacity, binding
        case firstBad = "first_bad"
        case bindingReasons = "binding_reasons"
    }

    /// Saturation is judged against a point at most 1/1.25 of the load (see `init`).
    public static let saturationStep = 1.25

    /// A doubling of load must add at least 5% throughput: for a load ratio r the least growth is
    /// r^log2(1.05), so a smaller step (a bisection's) asks proportionally less.
    public static func leastGrowth(loadRatio: Double) -> Double { Foundation.pow(loadRatio, Foundation.log2(1.05)) }

    public init(record: SweepRecord, points unsorted: [SweepPoint]) {
        self.record = record
        var points = unsorted.sorted { $0.load < $1.load }
        var lastGood: Int?
        var firstBad: Int?
        var binding = Binding.none
        var reasons: [String] = []
        for index in points.indices {
            // Saturation against the highest point at least a quarter lower in load (before the first bad
            // point, every point below is good): closer points differ by less than a short run's noise.
            if let reference = points.indices.last(where: {
                $0 < index && points[$0].load * Self.saturationStep <= points[index].load * (1 + 1e-9)
            }) {
                let ratio = points[index].load / points[reference].load
                let (now, before) = Self.throughputs(points[index], points[reference])
                points[index].saturated = ratio > 1 && now < before * Self.leastGrowth(loadRatio: ratio)
            }
            guard firstBad == nil else { continue }
            let point = points[index]
            if point.clientBound {
                (firstBad, binding, reasons) = (index, .client, point.clientBottleneck)
            } else if !point.sloMet {
                (firstBad, binding, reasons) = (index, .slo, point.slo?.brokenRules ?? [])
            } else if point.saturated {
                (firstBad, binding, reasons) = (index, .saturation, ["throughput grew less than 5% per doubling"])
            } else {
                lastGood = index
            }
        }
        self.points = points
        self.capacity = lastGood.map { points[$0] }
        self.firstBad = firstBad.map { points[$0] }
        self.binding = binding
        self.bindingReasons = reasons
    }

    /// The throughput saturation is judged on: output tokens/s when both points generated (tokens arrive
    /// continuously, so a short steady window measures them finely, where a few waves of requests ending
    /// inside it do not), requests/s otherwise (an embeddings endpoint).
    static func throughputs(_ point: SweepPoint, _ reference: SweepPoint) -> (Double, Double) {
        point.outputTokensPerSecond > 0 && reference.outputTokensPerSecond > 0
            ? (point.outputTokensPerSecond, reference.outputTokensPerSecond)
            : (point.requestsPerSecond, reference.requestsPerSecond)
    }

    /// The knee: the point before the first saturated one, where more load stopped adding throughput.
    public var knee: SweepPoint? {
        guard let first = points.firstIndex(where: \.saturated), first > 0 else { return nil }
        return points[first - 1]
    }

    /// The capacity's value for `capacity.*` gate rules (`capacity.requests_per_s`, `capacity.concurrency`,
    /// `capacity.rate`, `capacity.output_tokens_per_s`, `capacity.goodput_requests_per_s`); nil when there
    /// is no capacity or the key does not apply.
    public func capacityValue(_ key: String) -> Double? {
        guard let capacity else { return nil }
        switch key {
        case "requests_per_s": return capacity.requestsPerSecond
        case "output_tokens_per_s": return capacity.outputTokensPerSecond
        case "goodput_requests_per_s": return capacity.goodRequestsPerSecond
        case "concurrency": return record.over == .concurrency ? capacity.load : nil
        case "rate": return record.over == .rate ? capacity.load : nil
        default: return nil
        }
    }

    public static let capacityKeys = [
        "requests_per_s", "output_tokens_per_s", "goodput_requests_per_s", "concurrency", "rate",
    ]
}

/// `--find-capacity`: which load to measure next, from the points measured so far (so it needs no state of
/// its own and a stored sweep can be read back the way it ran). Start at `minimum` and double (the last
/// step clamped to `maximum`) while every point is good; once one is bad, bisect between the capacity
/// (the highest good point) and the first bad point until they are within the resolution. A sweep of
/// `minimum…maximum` takes at most log2(max/min) + 2 doubling points and log2(max/min) + 1 bisections:
/// within 2·log2(max/min) + 3.
public struct CapacitySearch: Sendable, Equatable {
    public enum Resolution: Sendable, Equatable {
        /// Within this much load (concurrency steps, or requests per second).
        case absolute(Double)
        /// Within this fraction of the capacity found.
        case relative(Double)
    }

    public enum Stop: String, Sendable, Equatable, Codable {
        /// The capacity is bracketed within the resolution.
        case resolved
        /// Every point up to the maximum was good.
        case maximumReached = "maximum_reached"
        /// Even the lowest load was bad.
        case minimumBad = "minimum_bad"
        /// The first bad point was the client's limit, not the endpoint's.
        case clientBound = "client_bound"
        case interrupted
    }

    public enum Step: Sendable, Equatable {
        case measure(Double)
        case stop(Stop)
    }

    public var over: SweepOver
    public var minimum: Double
    public var maximum: Double
    public var resolution: Resolution

    public init(over: SweepOver, minimum: Double, maximum: Double, resolution: Resolution) {
        self.over = over
        self.minimum = minimum
        self.maximum = maximum
        self.resolution = resolution
    }

    /// The default resolution: one concurrency step, or 5% of the rate.
    public static func defaultResolution(_ over: SweepOver) -> Resolution {
        over == .concurrency ? .absolute(1) : .relative(0.05)
    }

    public func next(after result: SweepResult) -> Step {
        guard !result.points.isEmpty else { return .measure(minimum) }
        guard let bad = result.firstBad else {
            let highest = result.points.last!.load
            if highest >= maximum { return .stop(.maximumReached) }
            return .measure(round(min(maximum, highest * 2)))
        }
        if result.binding == .client { return .stop(.clientBound) }
        guard let good = result.capacity else { return .stop(.minimumBad) }
        let (low, high) = (good.load, bad.load)
        let within: Bool
        switch resolution {
        case .absolute(let step): within = high - low <= max(step, over == .concurrency ? 1 : 0)
        case .relative(let fraction): within = high - low <= fraction * low
        }
        if within { return .stop(.resolved) }
        let middle = round((low + high) / 2)
        return middle > low && middle < high ? .measure(middle) : .stop(.resolved)
    }

    /// Concurrencies are whole; rates keep two decimals (their variant names show them).
    func round(_ load: Double) -> Double {
        over == .concurrency ? load.rounded(.down) : (load * 100).rounded() / 100
    }
}
