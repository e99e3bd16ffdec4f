import Foundation

/// A quantity compared between runs or bounded by a gate rule: a per-request metric or a
/// run-level value.
public enum RunMeasure: Sendable, Equatable, Hashable {
    case metric(Metric)
    /// Output tokens per second over the measured window.
    case outputTokensPerSecond
    /// Input tokens per second over the measured window (an embeddings endpoint's throughput).
    case inputTokensPerSecond
    /// Successful requests per second over the measured window.
    case requestsPerSecond
    /// Failed share of the measured requests.
    case errorRate
    /// Share of the measured requests that succeeded and met every per-request SLO.
    case goodput

    /// The per-request metrics `compare` reports, in display order.
    public static let comparedMetrics: [Metric] = [
        .ttft, .ttftScheduled, .ttfa, .reasoningTime, .tpot, .itl, .e2e, .dns, .tcp, .tls, .ttfb,
    ]
    static let runLevel: [RunMeasure] = [
        .outputTokensPerSecond, .inputTokensPerSecond, .requestsPerSecond, .errorRate, .goodput,
    ]
    /// Every name a rule may start with.
    static let ruleKeys: [String] = Metric.allCases.map(\.rawValue) + runLevel.map(\.key)

    public init?(key: String) {
        if let metric = Metric(rawValue: key) {
            self = .metric(metric)
            return
        }
        guard let measure = RunMeasure.runLevel.first(where: { $0.key == key }) else { return nil }
        self = measure
    }

    /// `ttft`, `output_tokens_per_s`, `requests_per_s`, `error_rate`, `goodput`.
    public var key: String {
        switch self {
        case .metric(let metric): return metric.rawValue
        case .outputTokensPerSecond: return "output_tokens_per_s"
        case .inputTokensPerSecond: return "input_tokens_per_s"
        case .requestsPerSecond: return "requests_per_s"
        case .errorRate: return "error_rate"
        case .goodput: return "goodput"
        }
    }

    /// For messages: `TTFT`, `output tokens/s`, `error rate`.
    public var displayName: String {
        switch self {
        case .metric(let metric):
            switch metric {
            case .ttftScheduled: return "TTFT (scheduled)"
            case .inputTokens: return "input tokens"
            case .outputTokens: return "output tokens"
            case .reasoningTokens: return "reasoning tokens"
            case .answerTokens: return "answer tokens"
            case .usageDiff: return "usage diff"
            case .reasoningTime: return "reasoning time"
            case .serverPrompt: return "server prompt time"
            case .serverGeneration: return "server generation time"
            case .serverTotal: return "server total time"
            case .total, .queue: return metric.rawValue
            default: return metric.rawValue.uppercased()
            }
        case .outputTokensPerSecond: return "output tokens/s"
        case .inputTokensPerSecond: return "input tokens/s"
        case .requestsPerSecond: return "requests/s"
        case .errorRate: return "error rate"
        case .goodput: return "goodput"
        }
    }

    public var unit: MeasureUnit {
        switch self {
        case .metric(let metric): return metric.unit == .tokens ? .tokens : .milliseconds
        case .outputTokensPerSecond, .inputTokensPerSecond: return .tokensPerSecond
        case .requestsPerSecond: return .requestsPerSecond
        case .errorRate, .goodput: return .fraction
        }
    }

    /// Throughput and goodput are better higher; latencies, token counts and errors lower.
    public var higherIsBetter: Bool {
        switch self {
        case .metric: return false
        case .outputTokensPerSecond, .inputTokensPerSecond, .requestsPerSecond, .goodput: return true
        case .errorRate: return false
        }
    }

    /// The samples a significance test uses, over the measured requests of one run:
    /// - per-request metrics: one value per successful request (`Metric.value`), except `itl`,
    ///   whose gaps within one request are not independent: each request contributes its mean gap;
    /// - throughput: the run's window cut into whole buckets of `bucketSeconds` from the first
    ///   request's start (the partial last bucket is dropped); each bucket's output tokens
    ///   (by chunk arrival; a usage count is spread over the chunks) or completed requests per
    ///   second. Buckets are not fully independent (load carries over), so the test is
    ///   somewhat optimistic for throughput; it has little power for short runs, which is honest;
    /// - error rate and goodput: one 0/1 value per measured request (the test used is the
    ///   two-proportion z-test on their counts).
    public func testSamples(in traces: [RequestTrace], bucketSeconds: Double = 1) -> [Double] {
        switch self {
        case .metric(let metric):
            var values: [Double] = []
            values.reserveCapacity(traces.count)
            for trace in traces where !trace.isWarmup && trace.succeeded {
                if metric == .itl {
                    let gaps = Metric.interTokenLatencies(of: trace)
                    if !gaps.isEmpty { values.append(gaps.reduce(0, +) / Double(gaps.count)) }
                } else if let value = metric.value(of: trace) {
                    values.append(value)
                }
            }
            return values
        case .outputTokensPerSecond, .inputTokensPerSecond, .requestsPerSecond:
            return RunMeasure.buckets(of: self, in: traces, bucketSeconds: bucketSeconds)
        case .errorRate:
            return traces.filter { !$0.isWarmup }.map { $0.succeeded ? 0 : 1 }
        case .goodput:
            return []
        }
    }

    /// What `testSamples` are, for reports.
    public func testSampleDescription(bucketSeconds: Double = 1) -> String {
        switch self {
        case .metric(.itl): return "per-request mean gap"
        case .metric: return "per request"
        case .outputTokensPerSecond, .inputTokensPerSecond, .requestsPerSecond:
            return "per \(DecimalText.trimmed(bucketSeconds, fractionDigits: 3)) s bucket"
        case .errorRate, .goodput: return "per request (0/1), two-proportion z-test"
        }
    }

    static func buckets(of measure: RunMeasure, in traces: [RequestTrace], bucketSeconds: Double) -> [Double] {
        var origin = UInt64.max
        var end: UInt64 = 0
        for trace in traces where !trace.isWarmup {
            origin = min(origin, trace.startedAtNanos)
            end = max(end, trace.endedAtNanos)
        }
        guard origin < end, bucketSeconds > 0 else { return [] }
        let width = bucketSeconds * 1e9
        let count = Int((Double(end - origin) / width).rounded(.down))
        guard count > 0 else { return [] }
        var totals = [Double](repeating: 0, count: count)
        @inline(__always) func bucket(_ at: UInt64) -> Int? {
            let index = Int((Double(at &- min(at, origin)) / width).rounded(.down))
            return index < count ? index : nil
        }
        for trace in traces where !trace.isWarmup && trace.succeeded {
            if measure == .requestsPerSecond {
                if let i = bucket(trace.endedAtNanos) { totals[i] += 1 }
                continue
            }
            if measure == .inputTokensPerSecond {
                // A prompt's tokens are done when its answer ends.
                if let i = bucket(trace.endedAtNanos) { totals[i] += Double(trace.inputTokens ?? 0) }
                continue
            }
            let chunks = trace.chunkAtNanos
            guard !chunks.isEmpty else { continue }
            let tokens = trace.chunkTokens
            var chunkTotal = 0.0
            for i in 0..<chunks.count { chunkTotal += i < tokens.count ? Double(tokens[i]) : 1 }
            let scale = chunkTotal > 0 ? Double(trace.outputTokens) / chunkTotal : 0
            for i in 0..<chunks.count {
                if let b = bucket(chunks[i]) { totals[b] += (i < tokens.count ? Double(tokens[i]) : 1) * scale }
            }
        }
        return totals.map { $0 / bucketSeconds }
    }
}

extension RunMeasure: Codable {
    public init(from decoder: Decoder) throws {
        let key = try decoder.singleValueContainer().decode(String.self)
        guard let measure = RunMeasure(key: key) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "unknown measure '\(key)'"))
        }
        self = measure
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(key)
    }
}
