import Foundation

/// The part of a run where the load was what the scenario asked for: without the ramp-up at its start
/// and the drain at its end, which a short run at high load would otherwise blend into its numbers (the
/// first wave of a closed loop arrives all at once; the last requests run with fewer beside them).
///
/// - Closed loop at concurrency C: it starts when the last of the first C requests sent has ended (every
///   request in flight from then on was sent as another ended, as in the steady state), and ends when the
///   last request was sent (from then on fewer than C are in flight).
/// - Open loop: it starts one median request latency after the first request was sent (by Little's law
///   the requests in flight have reached their steady number by then), and ends when the last request was
///   sent (no arrival after it: the rest is drain).
///
/// The requests of the window are those sent and ended inside it. Times are the traces' (nanoseconds from
/// the run's origin), warmup requests included in finding the window, never counted in it.
extension RunInfo {
    /// The requests a run's statistics count, and their summary: those of its steady-state window when it
    /// was measured over one (with the window's throughput), else all of them.
    public func counted(_ traces: [RequestTrace]) -> (traces: [RequestTrace], summary: RunSummary) {
        guard let window = steadyWindow else { return (traces, RunSummary(traces: traces)) }
        return (traces.filter(window.contains), window.summary(of: traces))
    }
}

public struct SteadyStateWindow: Sendable, Equatable, Codable {
    public var fromNanos: UInt64
    public var toNanos: UInt64

    public init(fromNanos: UInt64, toNanos: UInt64) {
        self.fromNanos = fromNanos
        self.toNanos = toNanos
    }

    public var seconds: Double { Double(toNanos &- fromNanos) / 1e9 }

    /// Sent and ended inside the window (warmup or not: callers filter warmup as they do elsewhere).
    public func contains(_ trace: RequestTrace) -> Bool {
        trace.startedAtNanos >= fromNanos && trace.endedAtNanos <= toNanos
    }

    /// The measured requests inside the window.
    public func measured(_ traces: [RequestTrace]) -> [RequestTrace] {
        traces.filter { !$0.isWarmup && contains($0) }
    }

    /// What finding the window needs of a request.
    public struct Span: Sendable, Equatable {
        public var index: Int
        public var startedAtNanos: UInt64
        public var endedAtNanos: UInt64
        public var isWarmup: Bool
        public var succeeded: Bool

        public init(_ trace: RequestTrace) {
            index = trace.index
            startedAtNanos = trace.startedAtNanos
            endedAtNanos = trace.endedAtNanos
            isWarmup = trace.isWarmup
            succeeded = trace.succeeded
        }
    }

    /// The window of a run with `shape`; nil when the run has no steady part (no more requests than one
    /// wave, or no measured request sent and ended inside it).
    public static func of(_ traces: [RequestTrace], shape: LoadShape) -> SteadyStateWindow? {
        of(spans: traces.map(Span.init), shape: shape)
    }

    public static func of(spans: [Span], shape: LoadShape) -> SteadyStateWindow? {
        guard !spans.isEmpty else { return nil }
        let byStart = spans.sorted { ($0.startedAtNanos, $0.index) < ($1.startedAtNanos, $1.index) }
        let lastStart = byStart.last!.startedAtNanos
        let from: UInt64
        switch shape {
        case .closed(let concurrency):
            guard byStart.count > concurrency else { return nil }
            from = byStart.prefix(concurrency).map(\.endedAtNanos).max()!
        case .open, .replay:
            let latencies = spans.filter(\.succeeded).map { Double($0.endedAtNanos &- $0.startedAtNanos) }.sorted()
            guard !latencies.isEmpty else { return nil }
            from = byStart[0].startedAtNanos &+ UInt64(Quantile.of(sorted: latencies, 0.5))
        }
        guard from < lastStart else { return nil }
        let inside = spans.contains { !$0.isWarmup && $0.startedAtNanos >= from && $0.endedAtNanos <= lastStart }
        return inside ? SteadyStateWindow(fromNanos: from, toNanos: lastStart) : nil
    }

    enum CodingKeys: String, CodingKey {
        case fromNanos = "from_ns"
        case toNanos = "to_ns"
    }

    /// The throughput of the window itself: a handful of requests sent and ended inside a short window
    /// would give a rate over their own span, not the run's. Requests/s counts the successful requests that
    /// ended inside the window, input tokens/s their prompt tokens, output tokens/s every output token that
    /// arrived inside it (from any request), each over the window's length.
    public struct Throughput: Sendable, Equatable {
        public let window: SteadyStateWindow
        public private(set) var requests = 0
        public private(set) var inputTokens = 0
        public private(set) var outputTokens = 0

        public init(_ window: SteadyStateWindow) { self.window = window }

        public mutating func add(_ trace: RequestTrace) {
            guard !trace.isWarmup else { return }
            let (from, to) = (window.fromNanos, window.toNanos)
            let inside = { (t: UInt64) in t > from && t <= to }
            if trace.succeeded && inside(trace.endedAtNanos) {
                requests += 1
                inputTokens += trace.usage?.promptTokens ?? 0
            }
            guard trace.succeeded else { return }
            for (index, at) in trace.chunkAtNanos.enumerated() where inside(at) {
                outputTokens += index < trace.chunkTokens.count ? Int(trace.chunkTokens[index]) : 1
            }
        }

        /// `summary` (of the window's requests) with the window's length and throughput.
        public func applied(to summary: RunSummary) -> RunSummary {
            var summary = summary
            let seconds = window.seconds
            summary.windowSeconds = seconds
            summary.requestsPerSecond = seconds > 0 ? Double(requests) / seconds : 0
            summary.inputTokensPerSecond = seconds > 0 ? Double(inputTokens) / seconds : 0
            summary.outputTokensPerSecond = seconds > 0 ? Double(outputTokens) / seconds : 0
            return summary
        }
    }

    /// The summary of `traces` over this window: latencies of the requests inside it, the window's
    /// throughput.
    public func summary(of traces: [RequestTrace]) -> RunSummary {
        var throughput = Throughput(self)
        for trace in traces { throughput.add(trace) }
        return throughput.applied(to: RunSummary(traces: traces.filter(contains)))
    }
}
