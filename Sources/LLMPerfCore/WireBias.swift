/// One TCP segment that carried data, as the loopback interface saw it (`llmperf calibrate`'s packet capture).
public struct WireSegment: Sendable, Equatable {
    /// When the interface handled it, CLOCK_MONOTONIC nanoseconds (the clock of both traces).
    public var nanos: UInt64
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var sequence: UInt32
    public var payloadBytes: Int

    public init(nanos: UInt64, sourcePort: UInt16, destinationPort: UInt16, sequence: UInt32, payloadBytes: Int) {
        self.nanos = nanos
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.sequence = sequence
        self.payloadBytes = payloadBytes
    }

    /// The segment in an IPv4 packet's first bytes (at least its IP and TCP headers); nil for anything else: not
    /// IPv4, not TCP, a fragment, headers cut short or inconsistent, or no payload (a bare ACK, SYN or FIN).
    public init?(ipv4 packet: UnsafeRawBufferPointer, nanos: UInt64) {
        guard packet.count >= 20, packet[0] >> 4 == 4 else { return nil }
        let ipHeader = Int(packet[0] & 0x0f) * 4
        let totalLength = Int(packet[2]) << 8 | Int(packet[3])
        let fragment = (Int(packet[6]) << 8 | Int(packet[7])) & 0x3fff  // more-fragments flag and offset
        guard ipHeader >= 20, packet[9] == 6, fragment == 0, packet.count >= ipHeader + 20 else { return nil }
        func u16(_ at: Int) -> UInt16 { UInt16(packet[at]) << 8 | UInt16(packet[at + 1]) }
        let tcpHeader = Int(packet[ipHeader + 12] >> 4) * 4
        let payload = totalLength - ipHeader - tcpHeader
        guard tcpHeader >= 20, payload > 0 else { return nil }
        self.init(
            nanos: nanos, sourcePort: u16(ipHeader), destinationPort: u16(ipHeader + 2),
            sequence: UInt32(u16(ipHeader + 4)) << 16 | UInt32(u16(ipHeader + 6)), payloadBytes: payload)
    }
}

/// The client's bias against the wire: its timings set against the data segments the loopback interface carried
/// for the same requests, which is the client's own part alone (its send path and its receive path), without the
/// server's queues that a bias against the server's trace takes in.
///
/// Each request is found on the wire by the port its connection came from (the server's trace names it). Its
/// request went out in the first segment from the client after the previous response on that connection ended
/// (the server's last token) and no later than a millisecond after the server read it; its tokens are the first
/// segment from the server at or after the server's send time of each (a 20 µs allowance for the two clocks'
/// conversion); tokens the server wrote while the connection was busy share a segment. A segment that left after a
/// token's send time but held only earlier bytes (a server whose writes queue) would be taken for that token's,
/// which can only make the client look slower, never faster. A request not found on the wire is counted in
/// `unmatchedRequests`, never guessed.
public struct WireBias: Sendable, Equatable, Codable {
    /// Client TTFT − the wire's (first token segment − request segment), ms. On a new connection the client's
    /// TTFT includes the connection setup, so this does too.
    public var ttftBias: DistributionSummary?
    /// Client TTFT from the moment libcurl wrote the request − the wire's TTFT, ms: the bias without the
    /// connection setup.
    public var ttftBiasAfterConnect: DistributionSummary?
    /// The request's first segment − the client writing it (start + libcurl's pretransfer time), ms.
    public var sendDelay: DistributionSummary?
    /// The client's receive time of the first token − its segment, ms.
    public var receiveDelay: DistributionSummary?
    /// The client's receive time − the segment, for every token, ms.
    public var deliveryDelay: DistributionSummary?
    /// Client inter-token gap − the wire's gap, ms.
    public var itlBias: DistributionSummary?
    /// Not the client's: the server reading the request − its segment (the server's queue before its trace
    /// starts), ms.
    public var serverReadDelay: DistributionSummary?
    /// Not the client's: the first token's segment − the server's send time of it (the server's write path), ms.
    public var serverSendDelay: DistributionSummary?
    public var matchedRequests: Int
    /// Measured requests with a server trace that could not be found on the wire.
    public var unmatchedRequests: Int

    /// Tokens are looked for from this long before the server's send time (the clocks' conversion error).
    static let sendAllowanceNanos: UInt64 = 20_000
    /// A request's segment is looked for up to this long after the server read it.
    static let readAllowanceNanos: UInt64 = 1_000_000

    /// `clientOriginNanos` is the monotonic time the client's trace times are relative to; `requestID` gives the
    /// id the client sent for a trace (its `x-request-id`); `serverPort` is the port the server listened on.
    public init(
        client: [RequestTrace], server: ServerTrace, segments: [WireSegment], serverPort: UInt16,
        clientOriginNanos: UInt64, requestID: (RequestTrace) -> String
    ) {
        // Each connection's segments, by the client's port, in time order; a retransmission (the same sequence
        // number again) is not a new send.
        var toServer: [UInt16: [UInt64]] = [:]
        var toClient: [UInt16: [UInt64]] = [:]
        struct Sent: Hashable {
            var source: UInt16
            var destination: UInt16
            var sequence: UInt32
        }
        var seen: Set<Sent> = []
        for segment in segments.sorted(by: { $0.nanos < $1.nanos }) {
            let key = Sent(source: segment.sourcePort, destination: segment.destinationPort, sequence: segment.sequence)
            guard seen.insert(key).inserted else { continue }
            if segment.destinationPort == serverPort {
                toServer[segment.sourcePort, default: []].append(segment.nanos)
            } else if segment.sourcePort == serverPort {
                toClient[segment.destinationPort, default: []].append(segment.nanos)
            }
        }
        // The requests of each connection in the order the server read them: the previous one bounds the next.
        var byPort: [UInt16: [ServerTrace.Request]] = [:]
        for request in server.requests.values {
            guard let port = request.remotePort, request.arrivalNanos != nil else { continue }
            byPort[port, default: []].append(request)
        }
        for port in byPort.keys { byPort[port]!.sort { $0.arrivalNanos! < $1.arrivalNanos! } }

        var ttft: [Double] = []
        var afterConnect: [Double] = []
        var send: [Double] = []
        var receive: [Double] = []
        var delivery: [Double] = []
        var itl: [Double] = []
        var serverRead: [Double] = []
        var serverSend: [Double] = []
        var matched = 0
        var unmatched = 0
        func ms(_ nanos: Double) -> Double { nanos / 1e6 }
        for trace in client where trace.succeeded && !trace.isWarmup && trace.timingKnown {
            guard let serverSide = server.requests[requestID(trace)], let arrival = serverSide.arrivalNanos,
                !serverSide.tokenNanos.isEmpty, !trace.chunkAtNanos.isEmpty
            else { continue }
            guard let port = serverSide.remotePort, let onConnection = byPort[port],
                let position = onConnection.firstIndex(of: serverSide)
            else {
                unmatched += 1
                continue
            }
            let previousEnd =
                position == 0
                ? 0 : onConnection[position - 1].tokenNanos.last ?? onConnection[position - 1].arrivalNanos!
            guard
                let requestSent = toServer[port]?.first(where: {
                    $0 > previousEnd && $0 <= arrival + Self.readAllowanceNanos
                }),
                let tokens = Self.tokenSegments(serverSide.tokenNanos, in: toClient[port] ?? [])
            else {
                unmatched += 1
                continue
            }
            matched += 1
            let start = Double(clientOriginNanos) + Double(trace.startedAtNanos)
            let written = start + Double(trace.sentNanos)
            let firstClient = Double(clientOriginNanos) + Double(trace.chunkAtNanos[0])
            let wireTTFT = Double(tokens[0]) - Double(requestSent)
            ttft.append(ms(firstClient - start - wireTTFT))
            afterConnect.append(ms(firstClient - written - wireTTFT))
            send.append(ms(Double(requestSent) - written))
            receive.append(ms(firstClient - Double(tokens[0])))
            serverRead.append(ms(Double(arrival) - Double(requestSent)))
            serverSend.append(ms(Double(tokens[0]) - Double(serverSide.tokenNanos[0])))
            CalibrationBias.appendTokenBias(
                received: trace.chunkAtNanos, clientOriginNanos: clientOriginNanos, sent: tokens, delivery: &delivery,
                itl: &itl)
        }
        ttftBias = DistributionSummary(ttft)
        ttftBiasAfterConnect = DistributionSummary(afterConnect)
        sendDelay = DistributionSummary(send)
        receiveDelay = DistributionSummary(receive)
        deliveryDelay = DistributionSummary(delivery)
        itlBias = DistributionSummary(itl)
        serverReadDelay = DistributionSummary(serverRead)
        serverSendDelay = DistributionSummary(serverSend)
        matchedRequests = matched
        unmatchedRequests = unmatched
    }

    /// For each send time (ascending), the first segment at or after it (less the allowance); nil when one has none.
    /// Tokens written while the connection was busy leave together, so several may share a segment.
    static func tokenSegments(_ sends: [UInt64], in segments: [UInt64]) -> [UInt64]? {
        var result: [UInt64] = []
        result.reserveCapacity(sends.count)
        var next = segments.startIndex
        for send in sends {
            let earliest = send > sendAllowanceNanos ? send - sendAllowanceNanos : 0
            while next < segments.endIndex && segments[next] < earliest { next += 1 }
            guard next < segments.endIndex else { return nil }
            result.append(segments[next])
        }
        return result
    }
}
