import Synchronization

/// Where one request's time goes on the server, stamped as it happens: the responder stamps its
/// arrival (first bytes read), its hand-off to the engine and the rendering of its final event; the
/// engine stamps when it took the request into its running batch, when each token became ready, and
/// how many sequences shared each step. `phases(endNanos:)` turns the stamps into contiguous
/// phases that add up to the server's end-to-end exactly.
///
/// The engine stamps from its own thread once per step, the responder from the request's task: one
/// uncontended lock per step, next to a forward pass or a token's sleep.
public final class RequestTimeline: Sendable {
    private struct Stamps {
        var submitted: UInt64?
        var admitted: UInt64?
        var firstToken: UInt64?
        var lastToken: UInt64?
        var batchSum = 0
        var batchSteps = 0
    }

    public let arrivalNanos: UInt64
    private let stamps = Mutex(Stamps())

    public init(arrivalNanos: UInt64) { self.arrivalNanos = arrivalNanos }

    /// The prepared request was handed to the engine (the end of preprocessing).
    public func markSubmitted(_ nanos: UInt64 = MonotonicClock.nowNanos()) {
        stamps.withLock { if $0.submitted == nil { $0.submitted = nanos } }
    }

    /// The engine took the request into its running batch (the end of the queue wait); the first call counts.
    public func markAdmitted(_ nanos: UInt64 = MonotonicClock.nowNanos()) {
        stamps.withLock { if $0.admitted == nil { $0.admitted = nanos } }
    }

    /// Tokens became ready at `nanos`: the first call ends the prefill, the last one the decode.
    public func markTokens(_ nanos: UInt64 = MonotonicClock.nowNanos()) {
        stamps.withLock {
            if $0.firstToken == nil { $0.firstToken = nanos }
            $0.lastToken = nanos
        }
    }

    /// One step of the engine ran this request together with `batchSize` sequences (itself included).
    public func markStep(batchSize: Int) {
        stamps.withLock {
            $0.batchSum += batchSize
            $0.batchSteps += 1
        }
    }

    /// The phases up to `endNanos` (the final event rendered). A stamp that never came (no token: the
    /// request ended in its queue or its prefill) takes the one before it, so its phase is 0 and the rest
    /// still add up; a stamp out of order is clamped to the one before it.
    public func phases(endNanos: UInt64, usage: UsageDetails = UsageDetails()) -> ServerPhases {
        let s = stamps.withLock { $0 }
        let arrival = arrivalNanos
        let end = max(endNanos, arrival)
        let submitted = min(max(s.submitted ?? end, arrival), end)
        let admitted = min(max(s.admitted ?? s.firstToken ?? submitted, submitted), end)
        let first = min(max(s.firstToken ?? admitted, admitted), end)
        let last = min(max(s.lastToken ?? first, first), end)
        return ServerPhases(
            preprocessNanos: submitted - arrival, queueNanos: admitted - submitted, prefillNanos: first - admitted,
            decodeNanos: last - first, postprocessNanos: end - last,
            batchSize: s.batchSteps > 0 ? Double(s.batchSum) / Double(s.batchSteps) : nil,
            cachedTokens: usage.cachedPromptTokens,
            draftTokens: usage.extra["speculative_drafted_tokens"],
            draftAcceptedTokens: usage.extra["speculative_accepted_tokens"])
    }
}

/// One request's time on the server, in phases that follow each other: preprocessing (reading the
/// body, the chat template, tokenizing), the queue wait for a batch slot, prefill (to the first
/// token), decode (first token to last) and postprocessing (after the last token, up to the final
/// event). Work that overlaps the decode (each token's detokenization and write) counts in the
/// decode. Their sum is `totalNanos`, the server's end-to-end.
public struct ServerPhases: Sendable, Equatable {
    public var preprocessNanos: UInt64
    public var queueNanos: UInt64
    public var prefillNanos: UInt64
    public var decodeNanos: UInt64
    public var postprocessNanos: UInt64
    /// Sequences sharing this request's engine steps, on average.
    public var batchSize: Double?
    /// Prompt tokens the prefix cache served.
    public var cachedTokens: Int?
    public var draftTokens: Int?
    public var draftAcceptedTokens: Int?

    public var totalNanos: UInt64 { preprocessNanos + queueNanos + prefillNanos + decodeNanos + postprocessNanos }

    /// The `timings` object of a final event: llama.cpp's server's fields (`cache_n`, `prompt_n`,
    /// `prompt_ms`, `predicted_n`, `predicted_ms` and their rates, `draft_n`, `draft_n_accepted`), where
    /// `prompt_ms` is the prefill and `predicted_ms` the decode, extended with this server's
    /// `queue_ms`, `preprocess_ms`, `postprocess_ms`, `total_ms` and `batch_size`.
    public func timingsJSON(promptTokens: Int, predictedTokens: Int) -> String {
        let promptMs = Self.ms(prefillNanos)
        let predictedMs = Self.ms(decodeNanos)
        var out = "{\"cache_n\":\(cachedTokens ?? 0),\"prompt_n\":\(promptTokens)"
        out += ",\"prompt_ms\":\(Self.number(promptMs))"
        out += ",\"prompt_per_token_ms\":\(Self.number(promptTokens > 0 ? promptMs / Double(promptTokens) : 0))"
        out += ",\"prompt_per_second\":\(Self.number(promptMs > 0 ? Double(promptTokens) * 1e3 / promptMs : 0))"
        out += ",\"predicted_n\":\(predictedTokens),\"predicted_ms\":\(Self.number(predictedMs))"
        out +=
            ",\"predicted_per_token_ms\":\(Self.number(predictedTokens > 0 ? predictedMs / Double(predictedTokens) : 0))"
        out +=
            ",\"predicted_per_second\":\(Self.number(predictedMs > 0 ? Double(predictedTokens) * 1e3 / predictedMs : 0))"
        if let draftTokens, let draftAcceptedTokens {
            out += ",\"draft_n\":\(draftTokens),\"draft_n_accepted\":\(draftAcceptedTokens)"
        }
        out += ",\"queue_ms\":\(Self.number(Self.ms(queueNanos)))"
        out += ",\"preprocess_ms\":\(Self.number(Self.ms(preprocessNanos)))"
        out += ",\"postprocess_ms\":\(Self.number(Self.ms(postprocessNanos)))"
        out += ",\"total_ms\":\(Self.number(Self.ms(totalNanos)))"
        if let batchSize { out += ",\"batch_size\":\(Self.number(batchSize))" }
        out += "}"
        return out
    }

    /// A `Server-Timing` header value (W3C Server Timing: `name;dur=milliseconds`, comma-separated), for
    /// answers that are not streamed and so have no final event to carry `timings`.
    public var serverTimingHeader: String {
        [
            ("preprocess", preprocessNanos), ("queue", queueNanos), ("prefill", prefillNanos),
            ("decode", decodeNanos), ("postprocess", postprocessNanos), ("total", totalNanos),
        ].map { "\($0.0);dur=\(Self.number(Self.ms($0.1)))" }.joined(separator: ", ")
    }

    static func ms(_ nanos: UInt64) -> Double { Double(nanos) / 1e6 }

    /// Microsecond precision: enough for phases, short enough for every event.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let rounded = (value * 1000).rounded() / 1000
        if rounded == rounded.rounded() && abs(rounded) < 1e15 { return String(Int64(rounded)) }
        return "\(rounded)"
    }
}
