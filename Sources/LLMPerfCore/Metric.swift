import Foundation

/// One definition for every per-request metric. Time metrics are in milliseconds.
/// The README's metric table says how these map to other tools' names.
public enum Metric: String, Sendable, CaseIterable, Codable, Hashable {
    case dns
    case tcp
    case tls
    case ttfb
    case ttft
    case ttftScheduled = "ttft_scheduled"
    /// Time to the first answer token (answer text or a tool call, not reasoning): what a user
    /// sees. Equal to `ttft` for a request without visible reasoning.
    case ttfa
    /// From the first reasoning token to the first answer token.
    case reasoningTime = "reasoning_time"
    case tpot
    case itl
    case e2e
    case total
    case queue
    case inputTokens = "input_tokens"
    case outputTokens = "output_tokens"
    case reasoningTokens = "reasoning_tokens"
    case answerTokens = "answer_tokens"
    /// The server's `usage` output count minus the tokens the client saw arrive (one per content
    /// event, plus reasoning `usage` says was never streamed): 0 when they agree, above 0 when
    /// the server packs several tokens into an event, below 0 when it reports fewer tokens than
    /// it sent. No value without `usage`.
    case usageDiff = "usage_diff"
    /// The server's own time for the prompt (prefill), as its response reported it (Ollama
    /// `prompt_eval_duration`, llama.cpp `timings.prompt_ms`); no value when it reported none.
    case serverPrompt = "server_prompt"
    /// The server's own time generating the output (Ollama `eval_duration`, llama.cpp
    /// `timings.predicted_ms`).
    case serverGeneration = "server_generation"
    /// The server's own time for the whole request (Ollama `total_duration`).
    case serverTotal = "server_total"
    /// The server's wait for a batch slot (`llmperf serve`'s `timings.queue_ms`).
    case serverQueue = "server_queue"
    /// The server reading the request, templating and tokenizing it (`timings.preprocess_ms`).
    case serverPreprocess = "server_preprocess"
    /// The server's time after the last token (`timings.postprocess_ms`).
    case serverPostprocess = "server_postprocess"
    /// What lies between the two clocks: the client's time from writing the request to the last
    /// byte, less the server's own end-to-end — the network both ways and the client's own work.
    /// Needs the server's total (`timings.total_ms`, `Server-Timing: total`, Ollama `total_duration`).
    case networkClient = "network_client"

    public enum Unit: String, Sendable, Codable {
        case milliseconds = "ms"
        case tokens
    }

    public var unit: Unit {
        switch self {
        case .inputTokens, .outputTokens, .reasoningTokens, .answerTokens, .usageDiff: return .tokens
        default: return .milliseconds
        }
    }

    /// True for every latency: a smaller value is an improvement.
    public var lowerIsBetter: Bool { unit == .milliseconds }

    /// The metric's samples from one request (several for `itl`, none when it does not apply).
    public func samples(of trace: RequestTrace) -> [Double] {
        if self == .itl { return Metric.interTokenLatencies(of: trace) }
        guard let value = value(of: trace) else { return [] }
        return [value]
    }

    /// The metric's single value for one request; nil for `itl` (use `samples`) or when the
    /// request has no such value (no token arrived, no schedule, too few tokens).
    public func value(of trace: RequestTrace) -> Double? {
        let start = trace.startedAtNanos
        let firstChunk = trace.chunkAtNanos.first
        let lastChunk = trace.chunkAtNanos.last
        if !trace.timingKnown && (self == .dns || self == .tcp || self == .tls || self == .ttfb) { return nil }
        switch self {
        case .dns: return ms(trace.dnsNanos)
        case .tcp:
            guard trace.connectNanos > 0 else { return 0 }
            return ms(trace.connectNanos &- min(trace.dnsNanos, trace.connectNanos))
        case .tls:
            guard trace.tlsNanos > 0 else { return 0 }
            return ms(trace.tlsNanos &- min(trace.connectNanos, trace.tlsNanos))
        case .ttfb: return trace.firstByteNanos.map(ms)
        case .ttft: return firstChunk.map { ms($0 &- start) }
        case .ttftScheduled:
            guard let firstChunk else { return nil }
            return ms(firstChunk &- (trace.scheduledAtNanos ?? start))
        case .ttfa:
            guard let index = trace.firstAnswerChunkIndex else { return nil }
            return ms(trace.chunkAtNanos[index] &- start)
        case .reasoningTime:
            guard let first = trace.chunkAtNanos.indices.first(where: trace.isReasoningChunk),
                let answer = trace.firstAnswerChunkIndex, answer > first
            else { return nil }
            return ms(trace.chunkAtNanos[answer] &- trace.chunkAtNanos[first])
        case .tpot:
            // Over the tokens that streamed: reasoning the server hid is not between the chunks.
            let tokens = trace.streamedTokens
            guard let firstChunk, let lastChunk, tokens > 1 else { return nil }
            return ms(lastChunk &- firstChunk) / Double(tokens - 1)
        case .itl: return nil
        case .e2e: return lastChunk.map { ms($0 &- start) }
        case .total: return ms(trace.endedAtNanos &- start)
        case .queue: return trace.scheduledAtNanos.map { ms(start &- min($0, start)) }
        case .inputTokens: return trace.inputTokens.map(Double.init)
        case .outputTokens: return Double(trace.outputTokens)
        case .reasoningTokens: return trace.reasoningTokens.map(Double.init)
        case .answerTokens: return trace.answerTokens.map(Double.init)
        case .usageDiff:
            guard let reported = trace.usage?.completionTokens else { return nil }
            return Double(reported - trace.chunkAtNanos.count - trace.hiddenReasoningTokens)
        case .serverPrompt: return trace.serverTimings?.promptNanos.map(ms)
        case .serverGeneration: return trace.serverTimings?.generationNanos.map(ms)
        case .serverTotal: return trace.serverTimings?.totalNanos.map(ms)
        case .serverQueue: return trace.serverTimings?.queueNanos.map(ms)
        case .serverPreprocess: return trace.serverTimings?.preprocessNanos.map(ms)
        case .serverPostprocess: return trace.serverTimings?.postprocessNanos.map(ms)
        case .networkClient:
            guard trace.timingKnown, let server = trace.serverTimings?.totalNanos else { return nil }
            let client = trace.endedAtNanos &- min(trace.endedAtNanos, start &+ trace.sentNanos)
            return (Double(client) - Double(server)) / 1e6
        }
    }

    /// Every gap between consecutive content chunks, divided by the tokens of the later chunk.
    static func interTokenLatencies(of trace: RequestTrace) -> [Double] {
        var gaps: [Double] = []
        appendInterTokenLatencies(of: trace, to: &gaps)
        return gaps
    }

    static func appendInterTokenLatencies(of trace: RequestTrace, to gaps: inout [Double]) {
        forEachInterTokenLatency(of: trace) { gaps.append($0) }
    }

    @inline(__always) static func forEachInterTokenLatency(of trace: RequestTrace, _ body: (Double) -> Void) {
        let times = trace.chunkAtNanos
        guard times.count > 1 else { return }
        let tokens = trace.chunkTokens
        for i in 1..<times.count {
            let count = i < tokens.count ? max(1, Double(tokens[i])) : 1
            body(ms(times[i] &- times[i - 1]) / count)
        }
    }

    /// Calls `body` with each of the metric's samples from one request, keeping none.
    @inline(__always) public func forEachSample(of trace: RequestTrace, _ body: (Double) -> Void) {
        if self == .itl {
            Metric.forEachInterTokenLatency(of: trace, body)
        } else if let value = value(of: trace) {
            body(value)
        }
    }
}

@inline(__always) func ms(_ nanos: UInt64) -> Double { Double(nanos) / 1_000_000 }
