import Foundation
import LLMPerfCore
import Testing

@Suite("Latency breakdown")
struct LatencyBreakdownTests {
    static let ms: UInt64 = 1_000_000

    /// Start at 1 s; DNS 1 ms, connected at 3 ms, no TLS, request written at 3.5 ms, first chunk at 20 ms,
    /// last byte at 50 ms. The server: preprocess 0.5, queue `queue`, prefill 10, decode 25, postprocess 0.5.
    static func trace(
        queue: Double = 4, prefill: Double = 10, firstChunkMs: Double = 20, endMs: Double = 50,
        complete: Bool = true, index: Int = 0
    ) -> RequestTrace {
        func nanos(_ value: Double) -> UInt64 { UInt64((value * 1e6).rounded()) }
        let start: UInt64 = 1_000 * ms
        let total = 0.5 + queue + prefill + 25 + 0.5
        return RequestTrace(
            index: index, startedAtNanos: start, dnsNanos: 1 * ms, connectNanos: 3 * ms, tlsNanos: 0,
            sentNanos: 3 * ms + ms / 2, chunkAtNanos: [start + nanos(firstChunkMs), start + nanos(endMs - 1)],
            endedAtNanos: start + nanos(endMs),
            serverTimings: ServerTimings(
                promptNanos: nanos(prefill), generationNanos: 25 * ms, totalNanos: complete ? nanos(total) : nil,
                queueNanos: complete ? nanos(queue) : nil, preprocessNanos: complete ? ms / 2 : nil,
                postprocessNanos: complete ? ms / 2 : nil))
    }

    @Test func segmentsFollowEachOtherAndAddUpToTheWholeRequest() throws {
        let b = try #require(LatencyBreakdown.of(Self.trace()))
        #expect(b.complete)
        // dns 1, tcp 2, tls 0, request 0.5, preprocess 0.5, queue 4, prefill 10,
        // first token on the wire 20 − 3.5 − 14.5 = 2, decode 25, postprocess 0.5, last byte 50 − 3.5 − 40 − 2 = 4.5
        let expected: [Double] = [1, 2, 0, 0.5, 0.5, 4, 10, 2, 25, 0.5, 4.5]
        for (value, want) in zip(b.millis, expected) { #expect(abs(value - want) < 1e-9, "\(b.millis)") }
        #expect(abs(b.totalMillis - 50) < 1e-9)
        #expect(abs(b.networkAndClientMillis - 6.5) < 1e-9)
        // The segments before the first token are the client's TTFT.
        let ttft = LatencyBreakdown.Segment.allCases.filter(\.beforeFirstToken).reduce(0) { $0 + b[$1] }
        #expect(abs(ttft - 20) < 1e-9)
        // The metric is the same remainder: (50 − 3.5) − 40.
        #expect(abs((Metric.networkClient.value(of: Self.trace()) ?? -1) - 6.5) < 1e-9)
    }

    @Test func aServerReportingOnlyPrefillAndDecodeLeavesTheRestOnTheWire() throws {
        let b = try #require(LatencyBreakdown.of(Self.trace(complete: false)))
        #expect(!b.complete)
        #expect(b[.queue] == 0 && b[.preprocess] == 0 && b[.postprocess] == 0)
        // 20 − 3.5 − 10 and 50 − 3.5 − 35 − 6.5
        #expect(abs(b[.firstTokenWire] - 6.5) < 1e-9 && abs(b[.lastByteWire] - 5) < 1e-9)
        #expect(Metric.networkClient.value(of: Self.trace(complete: false)) == nil)
    }

    @Test func noBreakdownWithoutTheServersAccountOrAFirstToken() {
        var trace = Self.trace()
        trace.serverTimings = ServerTimings(promptNanos: 10 * Self.ms)
        #expect(LatencyBreakdown.of(trace) == nil)
        trace = Self.trace()
        trace.outcome = .failed(.decode, detail: "x")
        #expect(LatencyBreakdown.of(trace) == nil)
        trace = Self.trace()
        trace.timingKnown = false
        #expect(LatencyBreakdown.of(trace) == nil)
    }

    @Test func theMedianBarAndWhichPhaseMoved() throws {
        // Baseline queues 40, 44 and 48 ms; the candidate 2, 6 and 10 ms, and prefills 8 instead of 10:
        // TTFT moves by −38 (queue) − 2 (prefill) = −40 ms, and the whole request by as much.
        let baseline = try #require(
            LatencyBreakdown.Summary(
                [40.0, 44, 48].enumerated().map {
                    Self.trace(queue: $1, firstChunkMs: 20 + $1, endMs: 50 + $1, index: $0)
                }))
        let candidate = try #require(
            LatencyBreakdown.Summary(
                [2.0, 6, 10].enumerated().map {
                    Self.trace(queue: $1, prefill: 8, firstChunkMs: 18 + $1, endMs: 48 + $1, index: $0)
                }))
        #expect(baseline.count == 3 && baseline.complete)
        #expect(abs(baseline[.queue] - 44) < 1e-9 && abs(candidate[.queue] - 6) < 1e-9)
        let shift = LatencyBreakdown.Shift(baseline: baseline, candidate: candidate)
        #expect(abs(shift.total(.ttft) - -40) < 1e-9)
        #expect(abs(shift.total(.request) - -40) < 1e-9)
        let drivers = shift.drivers(.ttft)
        #expect(drivers.map(\.segment) == [.queue], "\(drivers)")
        #expect(abs(drivers[0].change - -38) < 1e-9)
        // Asked for all of it, the prefill comes second.
        #expect(shift.drivers(.ttft, share: 1).map(\.segment) == [.queue, .prefill])
        // Warmup requests are left out.
        var warm = Self.trace(queue: 1000)
        warm.isWarmup = true
        #expect(LatencyBreakdown.Summary([warm]) == nil)
    }
}
