import LLMPerfCore

/// The `Transport` of a real run: each order goes out through a `CurlMultiLoop` with the body
/// its prompt was given once, up front, by the target's dialect.
public final class CurlTransport: Transport {
    public let config: TransportConfig
    /// When set, each request carries `x-request-id: <prefix>-<index>` (the bundled server
    /// records it in its trace file, so client and server times can be matched).
    public let requestIDPrefix: String?
    public let loop: CurlMultiLoop
    private let bodies: [[UInt8]]
    /// `workload.batch`: inputs in each body (the answer must hold as many embeddings).
    private let inputsPerRequest: Int

    /// `loop`: the loop to submit to; by default a new one whose connection cache fits `load`'s
    /// concurrency (twice it, at least 64; 256 in flight for an open loop without a limit).
    public init(
        config: TransportConfig, workload: WorkloadSpec, model: String, load: LoadSpec,
        requestIDPrefix: String? = nil, loop: CurlMultiLoop? = nil
    ) {
        self.config = config
        self.requestIDPrefix = requestIDPrefix
        self.inputsPerRequest = max(1, workload.batch)
        self.bodies = workload.prompts.indices.map { index in
            workload.batch > 1
                ? config.dialect.requestBody(
                    prompts: workload.batchPrompts(startingAt: index), workload: workload, model: model)
                : config.dialect.requestBody(prompt: workload.prompts[index], workload: workload, model: model)
        }
        let concurrency: Int
        switch load.shape {
        case .closed(let n): concurrency = n
        case .open(_, _, let max): concurrency = max ?? 256
        }
        self.loop = loop ?? CurlMultiLoop(maxConnections: max(64, concurrency * 2))
    }

    public var promptCount: Int { bodies.count }

    /// `order.scheduledAtNanos` (CLOCK_MONOTONIC) is stored relative to the config's origin.
    public func send(_ order: RequestOrder, completion: @escaping @Sendable (RequestTrace) -> Void)
        -> any InFlightRequest
    {
        let origin = config.originNanos
        let request = TransportRequest(
            config: config, body: bodies[order.promptIndex], index: order.index, isWarmup: order.isWarmup,
            promptIndex: order.promptIndex, inputCount: inputsPerRequest,
            scheduledAtNanos: order.scheduledAtNanos.map { $0 &- min(origin, $0) },
            extraHeaderLines: requestIDPrefix.map { ["x-request-id: \($0)-\(order.index)"] } ?? [])
        return CurlInFlightRequest(loop: loop, handle: loop.submit(request, completion: completion))
    }
}

/// A request submitted to a `CurlMultiLoop`; cancelling it goes through the loop.
struct CurlInFlightRequest: InFlightRequest {
    let loop: CurlMultiLoop
    let handle: RequestHandle

    func cancel() { loop.cancel(handle) }
}

extension LoadDriver {
    /// A driver sending `workload`'s prompts to `config`'s endpoint through libcurl (see
    /// `CurlTransport`).
    public convenience init(
        config: TransportConfig, workload: WorkloadSpec, model: String, load: LoadSpec,
        cancelGrace: Duration = .seconds(2), requestIDPrefix: String? = nil, loop: CurlMultiLoop? = nil
    ) {
        self.init(
            transport: CurlTransport(
                config: config, workload: workload, model: model, load: load, requestIDPrefix: requestIDPrefix,
                loop: loop),
            load: load, cancelGrace: cancelGrace)
    }

    /// A driver for one scenario (`url`: the full endpoint URL; `originNanos`: the run origin
    /// every trace time is relative to, CLOCK_MONOTONIC).
    public convenience init(
        scenario: Scenario, url: String, originNanos: UInt64 = MonotonicClock.nanos(),
        cancelGrace: Duration = .seconds(2), requestIDPrefix: String? = nil
    ) {
        self.init(
            config: TransportConfig(
                target: scenario.target, url: url, streaming: scenario.workload.stream, originNanos: originNanos),
            workload: scenario.workload, model: scenario.target.model, load: scenario.load, cancelGrace: cancelGrace,
            requestIDPrefix: requestIDPrefix)
    }
}
