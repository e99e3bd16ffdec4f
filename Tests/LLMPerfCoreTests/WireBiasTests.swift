import Testing

@testable import LLMPerfCore

/// The bias against the wire: segments read from raw IPv4 packets, and each request found on its connection by
/// the client's port, with exact expectations.
@Suite struct WireBiasTests {
    /// An IPv4 packet's headers (`ipWords` and `tcpWords` 32-bit words long) for `payload` bytes of data.
    static func packet(
        protocolNumber: UInt8 = 6, version: UInt8 = 4, ipWords: UInt8 = 5, tcpWords: UInt8 = 5,
        fragment: UInt16 = 0x4000, payload: Int, source: UInt16 = 40_000, destination: UInt16 = 8_080,
        sequence: UInt32 = 0x0102_0304
    ) -> [UInt8] {
        let ipLength = Int(ipWords) * 4
        let tcpLength = Int(tcpWords) * 4
        var bytes = [UInt8](repeating: 0, count: ipLength + tcpLength)
        let total = ipLength + tcpLength + payload
        bytes[0] = version << 4 | ipWords
        bytes[2] = UInt8(total >> 8)
        bytes[3] = UInt8(total & 0xff)
        bytes[6] = UInt8(fragment >> 8)
        bytes[7] = UInt8(fragment & 0xff)
        bytes[9] = protocolNumber
        bytes[ipLength] = UInt8(source >> 8)
        bytes[ipLength + 1] = UInt8(source & 0xff)
        bytes[ipLength + 2] = UInt8(destination >> 8)
        bytes[ipLength + 3] = UInt8(destination & 0xff)
        for i in 0..<4 { bytes[ipLength + 4 + i] = UInt8(sequence >> (24 - 8 * UInt32(i)) & 0xff) }
        bytes[ipLength + 12] = tcpWords << 4
        return bytes
    }

    static func segment(_ bytes: [UInt8]) -> WireSegment? {
        bytes.withUnsafeBytes { WireSegment(ipv4: $0, nanos: 7) }
    }

    @Test func aTCPSegmentWithDataIsReadFromItsHeaders() {
        #expect(
            Self.segment(Self.packet(payload: 100))
                == WireSegment(
                    nanos: 7, sourcePort: 40_000, destinationPort: 8_080, sequence: 0x0102_0304, payloadBytes: 100))
        // Options in both headers move the ports and shorten the payload.
        #expect(
            Self.segment(Self.packet(ipWords: 6, tcpWords: 8, payload: 5, source: 8_080, destination: 51_000))
                == WireSegment(
                    nanos: 7, sourcePort: 8_080, destinationPort: 51_000, sequence: 0x0102_0304, payloadBytes: 5))
    }

    @Test func anythingButATCPSegmentWithDataIsNone() {
        #expect(Self.segment(Self.packet(payload: 0)) == nil, "a bare ACK")
        #expect(Self.segment(Self.packet(protocolNumber: 17, payload: 10)) == nil, "UDP")
        #expect(Self.segment(Self.packet(version: 6, payload: 10)) == nil, "not IPv4")
        #expect(Self.segment(Self.packet(fragment: 0x2000, payload: 10)) == nil, "a first fragment")
        #expect(Self.segment(Self.packet(fragment: 0x0010, payload: 10)) == nil, "a later fragment")
        #expect(Self.segment(Array(Self.packet(payload: 10).prefix(30))) == nil, "headers cut short")
        #expect(Self.segment(Self.packet(tcpWords: 4, payload: 10)) == nil, "a TCP header shorter than 20 bytes")
    }

    @Test func theTraceReadsTheClientsPort() throws {
        let trace = try ServerTrace(
            parsing: "r-0\t-1\t5\tarrival\nr-0\t-1\t5\tfault:none\nr-0\t-1\t5\tremote_port:40000\n")
        #expect(trace.requests["r-0"] == ServerTrace.Request(arrivalNanos: 5, remotePort: 40_000))
    }

    @Test func eachTokenIsTheFirstSegmentAtOrAfterItsSendTime() {
        // 20 µs early still counts (the clocks' conversion); tokens written together share a segment.
        #expect(WireBias.tokenSegments([1_000_000, 2_000_000], in: [985_000, 2_100_000]) == [985_000, 2_100_000])
        #expect(WireBias.tokenSegments([1_000_000, 2_000_000], in: [970_000, 2_100_000]) == [2_100_000, 2_100_000])
        #expect(WireBias.tokenSegments([1_000_000, 2_000_000], in: [1_500_000]) == nil)
    }

    @Test func biasIsTheClientsTimesLessTheWiresRequestByRequest() throws {
        let port: UInt16 = 8_080
        func up(_ nanos: UInt64, _ client: UInt16, _ sequence: UInt32) -> WireSegment {
            WireSegment(nanos: nanos, sourcePort: client, destinationPort: port, sequence: sequence, payloadBytes: 200)
        }
        func down(_ nanos: UInt64, _ client: UInt16, _ sequence: UInt32) -> WireSegment {
            WireSegment(nanos: nanos, sourcePort: port, destinationPort: client, sequence: sequence, payloadBytes: 90)
        }
        let segments = [
            // r-0 and r-1 on one connection (port 40000): r-0's request, its headers, two tokens.
            up(1_020_000, 40_000, 1), down(1_060_000, 40_000, 100), down(6_100_000, 40_000, 200),
            down(8_200_000, 40_000, 300),
            // r-1: its request, then the same segment again (a retransmission, not a new send), one token.
            up(10_010_000, 40_000, 2), up(10_500_000, 40_000, 2), down(16_040_000, 40_000, 400),
            // r-2 on a new connection (port 40001): two tokens that left in one segment.
            up(18_320_000, 40_001, 1), down(20_050_000, 40_001, 10),
            // Another server's traffic.
            WireSegment(nanos: 6_000_500, sourcePort: 9_999, destinationPort: 40_000, sequence: 1, payloadBytes: 5),
        ]
        let server = ServerTrace(requests: [
            "r-0": .init(arrivalNanos: 1_050_000, tokenNanos: [6_000_000, 8_000_000], remotePort: 40_000),
            "r-1": .init(arrivalNanos: 10_030_000, tokenNanos: [16_000_000], remotePort: 40_000),
            "r-2": .init(arrivalNanos: 18_400_000, tokenNanos: [20_000_000, 20_010_000], remotePort: 40_001),
            // r-3's connection never showed on the wire.
            "r-3": .init(arrivalNanos: 30_000_000, tokenNanos: [35_000_000], remotePort: 40_002),
        ])
        // Client origin 1,000,000: times below are relative to it.
        let client = [
            RequestTrace(
                index: 0, startedAtNanos: 0, sentNanos: 10_000, chunkAtNanos: [5_200_000, 7_300_000],
                chunkTokens: [1, 1], endedAtNanos: 7_400_000),
            RequestTrace(
                index: 1, startedAtNanos: 9_000_000, sentNanos: 5_000, chunkAtNanos: [15_100_000], chunkTokens: [1],
                endedAtNanos: 15_200_000),
            RequestTrace(
                index: 2, startedAtNanos: 17_000_000, sentNanos: 300_000, chunkAtNanos: [19_150_000, 19_150_000],
                chunkTokens: [1, 1], endedAtNanos: 19_200_000),
            RequestTrace(
                index: 3, startedAtNanos: 28_000_000, sentNanos: 1_000, chunkAtNanos: [34_100_000], chunkTokens: [1],
                endedAtNanos: 34_200_000),
            // A warmup request is not measured.
            RequestTrace(
                index: 4, isWarmup: true, startedAtNanos: 0, chunkAtNanos: [1], chunkTokens: [1], endedAtNanos: 2),
        ]
        let wire = WireBias(
            client: client, server: server, segments: segments, serverPort: port, clientOriginNanos: 1_000_000
        ) { "r-\($0.index)" }
        #expect(wire.matchedRequests == 3)
        #expect(wire.unmatchedRequests == 1)
        func values(_ summary: DistributionSummary?) throws -> [Double] {
            let summary = try #require(summary)
            return [summary.min, summary.p50, summary.max].map { ($0 * 1e3).rounded() / 1e3 }
        }
        // r-0: client TTFT 5.2 ms, wire 5.08; r-1: 6.1 against 6.03; r-2: 2.15 (with its connect) against 1.73.
        #expect(try values(wire.ttftBias) == [0.07, 0.12, 0.42])
        #expect(try values(wire.ttftBiasAfterConnect) == [0.065, 0.11, 0.12])
        #expect(try values(wire.sendDelay) == [0.005, 0.01, 0.02])
        #expect(try values(wire.receiveDelay) == [0.06, 0.1, 0.1])
        #expect(try values(wire.serverReadDelay) == [0.02, 0.03, 0.08])
        #expect(try values(wire.serverSendDelay) == [0.04, 0.05, 0.1])
        #expect(try #require(wire.deliveryDelay).count == 5)
        #expect(try values(wire.deliveryDelay) == [0.06, 0.1, 0.1])
        #expect(try #require(wire.itlBias).count == 2)
        #expect(try values(wire.itlBias) == [0, 0, 0])
    }
}
