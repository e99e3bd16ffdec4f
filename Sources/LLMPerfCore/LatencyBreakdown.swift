import Foundation

/// One request's latency as a waterfall of segments that follow each other and add up to the
/// client's whole request (its start to its last byte): the client's connection phases, the
/// server's own phases as its response reported them, and what lies between the two clocks.
///
///     dns → tcp → tls → request sent → [server: preprocess → queue → prefill] → first token on the wire
///         → [server: decode → postprocess] → last byte on the wire
///
/// "On the wire" is what the client saw beyond the server's account: the network both ways and
/// the client's own work. The first of them is its share up to the first token (the client's TTFT
/// less the request's sending and the server's phases before the first token), the second the rest.
/// Their sum, `networkAndClientMillis`, is `Metric.networkClient`.
public struct LatencyBreakdown: Sendable, Equatable {
    public enum Segment: String, Sendable, CaseIterable, Codable {
        case dns, tcp, tls
        case request = "request_sent"
        case preprocess, queue, prefill
        case firstTokenWire = "first_token_wire"
        case decode, postprocess
        case lastByteWire = "last_byte_wire"

        public enum Side: String, Sendable { case client, server, wire }

        public var side: Side {
            switch self {
            case .dns, .tcp, .tls, .request: return .client
            case .preprocess, .queue, .prefill, .decode, .postprocess: return .server
            case .firstTokenWire, .lastByteWire: return .wire
            }
        }

        /// Segments before the client's first token: their sum is the client's TTFT.
        public var beforeFirstToken: Bool {
            switch self {
            case .decode, .postprocess, .lastByteWire: return false
            default: return true
            }
        }

        public var title: String {
            switch self {
            case .dns: return "DNS"
            case .tcp: return "TCP connect"
            case .tls: return "TLS handshake"
            case .request: return "request sent"
            case .preprocess: return "server preprocess"
            case .queue: return "server queue"
            case .prefill: return "server prefill"
            case .firstTokenWire: return "first token on the wire"
            case .decode: return "server decode"
            case .postprocess: return "server postprocess"
            case .lastByteWire: return "last byte on the wire"
            }
        }
    }

    /// Milliseconds of each segment, in `Segment.allCases` order.
    public var millis: [Double]
    /// The server reported every phase (`llmperf serve`); false when it reported only its prefill and
    /// decode (llama.cpp, Ollama): its preprocessing, queue and postprocessing then count as 0 and are
    /// on the wire.
    public var complete: Bool

    public subscript(_ segment: Segment) -> Double { millis[Segment.allCases.firstIndex(of: segment)!] }

    /// The client's whole request (its start to its last byte): the sum of the segments.
    public var totalMillis: Double { millis.reduce(0, +) }
    /// Network and client: the two segments on the wire.
    public var networkAndClientMillis: Double { self[.firstTokenWire] + self[.lastByteWire] }

    public init(millis: [Double], complete: Bool) {
        precondition(millis.count == Segment.allCases.count)
        self.millis = millis
        self.complete = complete
    }

    /// The breakdown of a request that succeeded, whose connection timings are known, that had a first
    /// token and whose server reported at least its prefill and decode; nil otherwise.
    public static func of(_ trace: RequestTrace) -> LatencyBreakdown? {
        guard trace.outcome == .ok, trace.timingKnown, let first = trace.chunkAtNanos.first,
            let server = trace.serverTimings, let prefill = server.promptNanos, let decode = server.generationNanos
        else { return nil }
        func ms(_ nanos: UInt64) -> Double { Double(nanos) / 1e6 }
        let start = trace.startedAtNanos
        let dns = trace.dnsNanos
        let connect = max(trace.connectNanos, dns)
        let tls = max(trace.tlsNanos, connect)
        let sent = max(trace.sentNanos, tls)
        let preprocess = server.preprocessNanos ?? 0
        let queue = server.queueNanos ?? 0
        let postprocess = server.postprocessNanos ?? 0
        let serverTotal = ms(preprocess) + ms(queue) + ms(prefill) + ms(decode) + ms(postprocess)
        let ttft = ms(first &- min(first, start))
        let whole = ms(trace.endedAtNanos &- min(trace.endedAtNanos, start))
        let firstWire = ttft - ms(sent) - ms(preprocess) - ms(queue) - ms(prefill)
        let lastWire = whole - ms(sent) - serverTotal - firstWire
        return LatencyBreakdown(
            millis: [
                ms(dns), ms(connect - dns), ms(tls - connect), ms(sent - tls), ms(preprocess), ms(queue), ms(prefill),
                firstWire, ms(decode), ms(postprocess), lastWire,
            ],
            complete: server.preprocessNanos != nil && server.queueNanos != nil && server.postprocessNanos != nil)
    }

    /// The median of each segment over a run's requests (each segment's own median: they need not add
    /// up to the median request), with how many requests had a breakdown.
    public struct Summary: Sendable, Equatable {
        public var count: Int
        /// Median milliseconds of each segment, in `Segment.allCases` order.
        public var medians: [Double]
        /// Every request's server reported every phase.
        public var complete: Bool

        public subscript(_ segment: Segment) -> Double { medians[Segment.allCases.firstIndex(of: segment)!] }

        /// The median bar's length: the sum of the segments' medians.
        public var totalMillis: Double { medians.reduce(0, +) }
        /// Network and client: the two medians on the wire.
        public var networkAndClientMillis: Double { self[.firstTokenWire] + self[.lastByteWire] }

        public init(count: Int, medians: [Double], complete: Bool) {
            self.count = count
            self.medians = medians
            self.complete = complete
        }

        /// Nil when no request had a breakdown. Warmup requests are left out.
        public init?(_ traces: some Sequence<RequestTrace>) {
            var columns = Array(repeating: [Double](), count: Segment.allCases.count)
            var complete = true
            for trace in traces where !trace.isWarmup {
                guard let breakdown = LatencyBreakdown.of(trace) else { continue }
                complete = complete && breakdown.complete
                for (i, value) in breakdown.millis.enumerated() { columns[i].append(value) }
            }
            guard let n = columns.first?.count, n > 0 else { return nil }
            self.init(
                count: n, medians: columns.map { Quantile.of(sorted: $0.sorted(), 0.5) }, complete: complete)
        }
    }

    /// Where a change between two runs went: each segment's change of median (candidate − baseline), and
    /// the change of the sum for the segments before the first token (TTFT) and for all of them (the
    /// whole request).
    public struct Shift: Sendable, Equatable {
        public var baseline: Summary
        public var candidate: Summary

        public init(baseline: Summary, candidate: Summary) {
            self.baseline = baseline
            self.candidate = candidate
        }

        public func change(_ segment: Segment) -> Double { candidate[segment] - baseline[segment] }

        public enum Scope: String, Sendable { case ttft, request }

        public func segments(_ scope: Scope) -> [Segment] {
            scope == .ttft ? Segment.allCases.filter(\.beforeFirstToken) : Segment.allCases
        }

        /// The change of the scope's sum of medians.
        public func total(_ scope: Scope) -> Double { segments(scope).reduce(0) { $0 + change($1) } }

        /// The segments that moved the scope's total, largest share first: those whose change has the
        /// total's sign, until they account for at least `share` of it (at most three). Empty when the
        /// total is zero.
        public func drivers(_ scope: Scope, share: Double = 0.8) -> [(segment: Segment, change: Double)] {
            let total = total(scope)
            guard total != 0 else { return [] }
            let candidates = segments(scope).map { ($0, change($0)) }
                .filter { $0.1 * total > 0 }
                .sorted { abs($0.1) > abs($1.1) }
            var out: [(segment: Segment, change: Double)] = []
            var covered = 0.0
            for (segment, change) in candidates where out.count < 3 && covered < share * abs(total) {
                out.append((segment, change))
                covered += abs(change)
            }
            return out
        }
    }
}
