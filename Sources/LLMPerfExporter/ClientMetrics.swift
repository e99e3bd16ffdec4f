import LLMPerfCore
import Prometheus
import Synchronization

/// The client's live metrics (`run --metrics-listen`): a `RunObserver` that counts every send and every trace
/// of the runs it is told of into a Prometheus registry, which `MetricsEndpoint` serves.
///
/// Every call is cheap and takes no lock the HTTP side holds for longer than a copy: counters and gauges are
/// atomics, each histogram has a lock of its own that a scrape holds only to copy its buckets, and the registry's
/// lock is taken only the first time a failure kind is seen. Warmup requests are counted apart
/// (`llmperf_client_warmup_requests_total{outcome}`) and in nothing else, as the stored statistics leave them
/// out. Counters run over the whole process: in a sweep they add up over its points, and `run_info` says
/// which point is going.
public final class ClientMetrics: RunObserver {
    public let registry: PrometheusCollectorRegistry
    private let sent: Counter
    private let inFlight: Gauge
    private let outcomes: OutcomeCounters
    private let warmupOutcomes: OutcomeCounters
    private let outputTokens: Counter
    private let ttft: ValueHistogram
    private let tpot: ValueHistogram
    private let itl: ValueHistogram
    private let e2e: ValueHistogram
    private let scheduleLag: ValueHistogram
    private let runActive: Gauge
    private let runInfo = Mutex<Gauge?>(nil)

    /// Latencies of a whole request or its first token: 5 ms to 5 minutes.
    public static let latencyBuckets: [Double] = [
        0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 0.75, 1, 1.5, 2.5, 5, 10, 20, 30, 60, 120, 300,
    ]
    /// Time per token: 0.5 ms to 2.5 s.
    public static let tokenBuckets: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2,
        0.3, 0.5, 1, 2.5,
    ]
    /// How late a request left after its open-loop schedule wanted it: 0.1 ms to 10 s.
    public static let lagBuckets: [Double] = [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        let name = Self.descriptor
        sent = registry.makeCounter(
            descriptor: name("requests_sent", "total", "Requests handed to the transport (warmup left out)."))
        inFlight = registry.makeGauge(
            descriptor: name("requests_in_flight", "", "Requests sent and not yet ended (warmup left out)."))
        outcomes = OutcomeCounters(registry) {
            name("requests", "total", "Requests ended, by outcome: ok or the failure kind (warmup left out).")
        }
        warmupOutcomes = OutcomeCounters(registry) {
            name("warmup_requests", "total", "Warmup requests ended, by outcome (counted nowhere else).")
        }
        outputTokens = registry.makeCounter(
            descriptor: name(
                "output_tokens", "total", "Output tokens of ended requests, any outcome (usage, else chunks)."))
        ttft = registry.makeValueHistogram(
            descriptor: name("time_to_first_token", "seconds", "TTFT of ok requests: first content token - start."),
            buckets: Self.latencyBuckets)
        tpot = registry.makeValueHistogram(
            descriptor: name(
                "time_per_output_token", "seconds", "TPOT of ok requests with 2 or more tokens, one per request."),
            buckets: Self.tokenBuckets)
        itl = registry.makeValueHistogram(
            descriptor: name(
                "inter_token_latency", "seconds", "Every gap between content chunks of ok requests, per token."),
            buckets: Self.tokenBuckets)
        e2e = registry.makeValueHistogram(
            descriptor: name("e2e_request_latency", "seconds", "Last content token - start, of ok requests."),
            buckets: Self.latencyBuckets)
        scheduleLag = registry.makeValueHistogram(
            descriptor: name(
                "schedule_lag", "seconds", "Open loop: start - when the schedule wanted the request sent, any outcome."),
            buckets: Self.lagBuckets)
        runActive = registry.makeGauge(descriptor: name("run_active", "", "1 while a run is sending, else 0."))
    }

    /// `llmperf_client_<metric>_<unit>`.
    private static func descriptor(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "llmperf", subsystem: "client", metricName: metric, unitName: unit, helpText: help)
    }

    public func runStarted(_ info: RunInfo, originNanos: UInt64) {
        let gauge = registry.makeGauge(
            descriptor: Self.descriptor(
                "run_info", "", "The run going or last gone: 1, with its id, name and variant."),
            labels: [("run_id", info.id), ("name", info.name), ("variant", info.variant ?? "")])
        gauge.set(to: 1)
        let previous = runInfo.withLock { current in
            defer { current = gauge }
            return current
        }
        if let previous, previous !== gauge { registry.unregisterGauge(previous) }
        runActive.set(to: 1)
    }

    public func requestSent(_ order: RequestOrder, atNanos: UInt64) {
        guard !order.isWarmup else { return }
        sent.increment()
        inFlight.increment()
    }

    public func requestFinished(_ trace: RequestTrace) {
        if trace.isWarmup {
            warmupOutcomes.count(trace.outcome)
            return
        }
        inFlight.decrement()
        outcomes.count(trace.outcome)
        outputTokens.increment(by: Int64(trace.outputTokens))
        if let lag = Metric.queue.value(of: trace) { scheduleLag.record(lag / 1000) }
        guard trace.succeeded else { return }
        if let value = Metric.ttft.value(of: trace) { ttft.record(value / 1000) }
        if let value = Metric.tpot.value(of: trace) { tpot.record(value / 1000) }
        if let value = Metric.e2e.value(of: trace) { e2e.record(value / 1000) }
        Metric.itl.forEachSample(of: trace) { itl.record($0 / 1000) }
    }

    public func runEnded(_ info: RunInfo) {
        runActive.set(to: 0)
    }
}

/// One counter family labelled `outcome`: `ok` made up front (so it reads 0 before the first answer), each
/// failure kind's code the first time it is seen.
private final class OutcomeCounters: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let descriptor: @Sendable () -> MetricNameDescriptor
    private let ok: Counter
    private let failures = Mutex<[String: Counter]>([:])

    init(_ registry: PrometheusCollectorRegistry, _ descriptor: @escaping @Sendable () -> MetricNameDescriptor) {
        self.registry = registry
        self.descriptor = descriptor
        ok = registry.makeCounter(descriptor: descriptor(), labels: [("outcome", "ok")])
    }

    func count(_ outcome: RequestOutcome) {
        guard let kind = outcome.failureKind else {
            ok.increment()
            return
        }
        let code = kind.code
        if let counter = failures.withLock({ $0[code] }) {
            counter.increment()
            return
        }
        // The registry returns the counter already made for these labels, so a race here counts once either way.
        let counter = registry.makeCounter(descriptor: descriptor(), labels: [("outcome", code)])
        failures.withLock { $0[code] = counter }
        counter.increment()
    }
}
