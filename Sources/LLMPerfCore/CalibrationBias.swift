import Foundation

/// How far the client's measurements sit from the server's own account of the same requests:
/// the client's overhead and bias, from traces of both sides on one host.
public struct CalibrationBias: Sendable, Equatable, Codable {
    /// Client TTFT − server TTFT (arrival → first token sent), ms. On a new connection the
    /// client's TTFT includes the connection setup, so this does too.
    public var ttftBias: DistributionSummary?
    /// For requests on a new connection: the server accepting it − the client's connect
    /// completing (start + libcurl's connect time), ms: how long the connection waited in the
    /// server's accept queue (the kernel completes the handshake before the server accepts).
    public var acceptDelay: DistributionSummary?
    /// For requests on a new connection: the server reading the request − accepting its
    /// connection, ms.
    public var readAfterAccept: DistributionSummary?
    /// Client TTFT counted from the moment the request was written (start + libcurl's
    /// pretransfer time) − server TTFT, ms: the bias without the connection setup (within a
    /// few µs of `ttftBias` on a reused connection).
    public var ttftBiasAfterConnect: DistributionSummary?
    /// Server arrival (request read off the socket) − the client writing it, ms: how long a
    /// written request takes to reach the server, its queues included.
    public var requestDelay: DistributionSummary?
    /// Client receive time of the first token − server send time of it, ms. For each request
    /// `ttftBias` = `connectionSetup` (0 on a reused connection) + `requestDelay` + this.
    public var firstTokenDelay: DistributionSummary?
    /// The client's connection setup (start → request written: name lookup, connect, TLS,
    /// waiting for a connection), ms, for the requests that opened a new connection.
    public var connectionSetup: DistributionSummary?
    /// Client inter-token gap − server inter-token gap, per gap, ms.
    public var itlBias: DistributionSummary?
    /// Client receive time − server send time, per token, ms (delivery and parsing delay).
    public var deliveryDelay: DistributionSummary?
    /// Measured (non-warmup) client requests that had a server trace to compare with.
    public var matchedRequests: Int
    /// Of those, the ones that opened a new connection.
    public var newConnections: Int

    /// `clientOriginNanos` is the monotonic time the client's trace times are relative to;
    /// `requestID` gives the id the client sent for a trace (its `x-request-id`).
    public init(
        client: [RequestTrace], server: ServerTrace, clientOriginNanos: UInt64, requestID: (RequestTrace) -> String
    ) {
        var ttft: [Double] = []
        var ttftAfterConnect: [Double] = []
        var requestDelay: [Double] = []
        var setup: [Double] = []
        var firstDelay: [Double] = []
        var itl: [Double] = []
        var delivery: [Double] = []
        var accept: [Double] = []
        var afterAccept: [Double] = []
        var matched = 0
        var newConnections = 0
        for trace in client where trace.succeeded && !trace.isWarmup {
            guard let serverSide = server.requests[requestID(trace)], let arrival = serverSide.arrivalNanos,
                let firstServer = serverSide.tokenNanos.first, let firstClient = trace.chunkAtNanos.first
            else { continue }
            matched += 1
            let written = Double(trace.startedAtNanos) + Double(trace.sentNanos)
            let clientTTFT = Double(firstClient) - Double(trace.startedAtNanos)
            let serverTTFT = Double(firstServer) - Double(arrival)
            ttft.append((clientTTFT - serverTTFT) / 1e6)
            ttftAfterConnect.append((Double(firstClient) - written - serverTTFT) / 1e6)
            requestDelay.append((Double(arrival) - (Double(clientOriginNanos) + written)) / 1e6)
            firstDelay.append((Double(clientOriginNanos) + Double(firstClient) - Double(firstServer)) / 1e6)
            if !trace.connection.reused {
                newConnections += 1
                setup.append(Double(trace.sentNanos) / 1e6)
                if let accepted = serverSide.acceptNanos {
                    let connected =
                        Double(clientOriginNanos) + Double(trace.startedAtNanos) + Double(trace.connectNanos)
                    accept.append((Double(accepted) - connected) / 1e6)
                    afterAccept.append((Double(arrival) - Double(accepted)) / 1e6)
                }
            }
            Self.appendTokenBias(
                received: trace.chunkAtNanos, clientOriginNanos: clientOriginNanos, sent: serverSide.tokenNanos,
                delivery: &delivery, itl: &itl)
        }
        ttftBias = DistributionSummary(ttft)
        ttftBiasAfterConnect = DistributionSummary(ttftAfterConnect)
        self.requestDelay = DistributionSummary(requestDelay)
        connectionSetup = DistributionSummary(setup)
        firstTokenDelay = DistributionSummary(firstDelay)
        itlBias = DistributionSummary(itl)
        deliveryDelay = DistributionSummary(delivery)
        acceptDelay = DistributionSummary(accept)
        readAfterAccept = DistributionSummary(afterAccept)
        matchedRequests = matched
        self.newConnections = newConnections
    }

    /// For each token both sides have, in order: the client's receive time − `sent` (`delivery`, ms), and from the
    /// second on, the client's gap − the gap in `sent` (`itl`, ms). `received` is relative to `clientOriginNanos`,
    /// `sent` absolute (a server's send times, or the wire's).
    static func appendTokenBias(
        received: [UInt64], clientOriginNanos: UInt64, sent: [UInt64], delivery: inout [Double], itl: inout [Double]
    ) {
        for i in 0..<min(sent.count, received.count) {
            delivery.append((Double(clientOriginNanos) + Double(received[i]) - Double(sent[i])) / 1e6)
            if i > 0 {
                let clientGap = Double(received[i]) - Double(received[i - 1])
                itl.append((clientGap - (Double(sent[i]) - Double(sent[i - 1]))) / 1e6)
            }
        }
    }
}
