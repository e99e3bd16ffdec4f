import Dispatch
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
    /// `workload.sessions`: the conversations so far; a turn's body is built when it is sent.
    public let sessions: SessionHistories?
    private let workload: WorkloadSpec
    private let model: String
    /// `workload.batch`: inputs in each body (the answer must hold as many embeddings).
    private let inputsPerRequest: Int
    /// `workload.cache_bust`'s run key (`CacheBust.runKey` of the run's id).
    private let cacheBustKey: UInt64
    /// Where answers are counted with the run's tokenizer (`workload.tokenCounter`): off the loop thread,
    /// which stamps every other stream's chunks (a long answer takes the tokenizer hundreds of µs). One
    /// queue, so traces keep their order.
    private let countingQueue = DispatchQueue(label: "llmperf.token-count")

    /// `loop`: the loop to submit to; by default a new one whose connection cache fits `load`'s
    /// concurrency (twice it, at least 64; 256 in flight for an open loop without a limit).
    public init(
        config: TransportConfig, workload: WorkloadSpec, model: String, load: LoadSpec,
        requestIDPrefix: String? = nil, loop: CurlMultiLoop? = nil,
        cacheBustKey: UInt64 = 0
    ) {
        self.config = config
        self.cacheBustKey = cacheBustKey
        // The run's nonces go into the bodies built once; per request, each body is built when it
        // is sent.
        var workload = workload
        if workload.cacheBust == .perRun, workload.sessions == nil {
            workload.prompts = workload.prompts.map { prompt in
                workload.cacheBust.nonce(runKey: cacheBustKey, index: 0, prompt: prompt).map {
                    prompt.prefixed(with: $0)
                } ?? prompt
            }
        }
        self.workload = workload
        self.model = model
        self.sessions = workload.sessionPlan.map {
            SessionHistories(
                plan: $0, prompts: workload.prompts, countTokens: workload.tokenCounter?.count ?? TokenEstimate.words)
        }
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
        case .replay: concurrency = 256
        }
        self.loop = loop ?? CurlMultiLoop(maxConnections: max(64, concurrency * 2))
    }

    public var promptCount: Int { bodies.count }

    /// `order.scheduledAtNanos` (CLOCK_MONOTONIC) is stored relative to the config's origin.
    public func send(_ order: RequestOrder, completion: @escaping @Sendable (RequestTrace) -> Void)
        -> any InFlightRequest
    {
        let origin = config.originNanos
        if let sessions, let turn = order.session {
            return sendTurn(turn, of: sessions, order: order, completion: completion)
        }
        var body = bodies[order.promptIndex]
        if workload.cacheBust == .perRequest {
            // Only here is the body built per request: every other request sends the one built up front.
            let prompt = workload.prompts[order.promptIndex]
            if let nonce = workload.cacheBust.nonce(runKey: cacheBustKey, index: order.index, prompt: prompt) {
                body = config.dialect.requestBody(
                    prompt: prompt.prefixed(with: nonce), workload: workload, model: model)
            }
        }
        var request = TransportRequest(
            config: config, body: body, index: order.index, isWarmup: order.isWarmup,
            promptIndex: order.promptIndex, inputCount: inputsPerRequest,
            scheduledAtNanos: order.scheduledAtNanos.map { $0 &- min(origin, $0) },
            extraHeaderLines: requestIDPrefix.map { ["x-request-id: \($0)-\(order.index)"] } ?? [])
        guard let counter = workload.tokenCounter else {
            return CurlInFlightRequest(loop: loop, handle: loop.submit(request, completion: completion))
        }
        // The whole answer is kept to be counted, then capped like any other.
        request.textCapBytes = Int.max
        let queue = countingQueue
        let handle = loop.submit(request) { trace in
            queue.async {
                var trace = trace
                Self.count(&trace, with: counter)
                trace.outputText = ResponseAccumulator.capped(trace.outputText)
                completion(trace)
            }
        }
        return CurlInFlightRequest(loop: loop, handle: handle)
    }

    /// With no `usage` in the response, the answer's tokens by the run's tokenizer; when they are
    /// more than the content events, they are spread over the events as usage would be
    /// (`ResponseAccumulator.apportion`), so inter-token latency divides each gap by its tokens.
    static func count(_ trace: inout RequestTrace, with counter: TokenCounter) {
        guard trace.usage?.completionTokens == nil, !trace.chunkTokens.isEmpty else { return }
        let tokens = counter.count(trace.outputText)
        trace.tokenizerOutputTokens = tokens
        let events = trace.chunkTokens.count
        if tokens > events, tokens <= Int(UInt32.max), trace.chunkTokens.allSatisfy({ $0 == 1 }) {
            trace.chunkTokens = ResponseAccumulator.apportion(tokens: tokens, over: events)
        }
    }
}

extension CurlTransport {
    /// A session's turn: the body carries the conversation so far and is built now; the answer is
    /// kept whole and given to the conversation before the driver hears the turn ended (so the
    /// next turn, sent after it, carries it).
    fileprivate func sendTurn(
        _ turn: SessionTurn, of sessions: SessionHistories, order: RequestOrder,
        completion: @escaping @Sendable (RequestTrace) -> Void
    ) -> any InFlightRequest {
        let (prompt, historyTokens) = sessions.prompt(for: turn)
        // The conversation keeps the texts as written; the nonce goes before what is sent.
        let sent = workload.cacheBust.nonce(runKey: cacheBustKey, index: order.index, prompt: prompt).map {
            prompt.prefixed(with: $0)
        }
        let body = config.dialect.requestBody(prompt: sent ?? prompt, workload: workload, model: model)
        let origin = config.originNanos
        var request = TransportRequest(
            config: config, body: body, index: order.index, isWarmup: order.isWarmup,
            promptIndex: order.promptIndex, inputCount: 1,
            scheduledAtNanos: order.scheduledAtNanos.map { $0 &- min(origin, $0) },
            extraHeaderLines: requestIDPrefix.map { ["x-request-id: \($0)-\(order.index)"] } ?? [])
        request.textCapBytes = Int.max
        let user = prompt.user
        let counter = workload.tokenCounter
        let finish: @Sendable (RequestTrace) -> Void = { trace in
            var trace = trace
            trace.session = turn
            trace.historyTokens = historyTokens
            if let counter { Self.count(&trace, with: counter) }
            sessions.record(
                turn, user: user, answer: trace.outputText, answerTokens: trace.outputTokens,
                succeeded: trace.succeeded)
            // What is stored is capped like any other request's text.
            trace.outputText = ResponseAccumulator.capped(trace.outputText)
            completion(trace)
        }
        // The turn's answer is recorded before its completion lets the session's next turn go.
        let queue = countingQueue
        let handle = loop.submit(request) { trace in
            if counter != nil { queue.async { finish(trace) } } else { finish(trace) }
        }
        return CurlInFlightRequest(loop: loop, handle: handle)
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
            load: load, cancelGrace: cancelGrace, sessions: workload.sessionPlan)
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
