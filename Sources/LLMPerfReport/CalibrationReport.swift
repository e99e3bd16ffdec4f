import Foundation
import LLMPerfCore

/// What `llmperf calibrate` measured: the client's bias against the server's own trace, and
/// the throughput it sustains. Encoded as is for `--json`.
public struct CalibrationResult: Codable, Sendable, Equatable {
    /// One throughput step: `concurrency` streams, `requests` in all.
    public struct ThroughputStep: Codable, Sendable, Equatable {
        public var concurrency: Int
        public var requests: Int
        public var outputTokensPerSecond: Double
        public var requestsPerSecond: Double
        public var clientCPUPercent: Double
        /// Nil where /proc cannot be read (printed as unavailable, never as 0).
        public var peakRSSMegabytes: Double?
        public var errors: Int

        public init(
            concurrency: Int, requests: Int, outputTokensPerSecond: Double, requestsPerSecond: Double,
            clientCPUPercent: Double, peakRSSMegabytes: Double?, errors: Int
        ) {
            self.concurrency = concurrency
            self.requests = requests
            self.outputTokensPerSecond = outputTokensPerSecond
            self.requestsPerSecond = requestsPerSecond
            self.clientCPUPercent = clientCPUPercent
            self.peakRSSMegabytes = peakRSSMegabytes
            self.errors = errors
        }
    }

    /// One bias measurement: `concurrency` streams (a cold burst: `concurrency` requests at once).
    public struct BiasRun: Codable, Sendable, Equatable {
        public var concurrency: Int
        public var requests: Int
        public var bias: CalibrationBias
        /// The bias against the segments on the loopback interface; nil without a capture.
        public var wire: WireBias?

        public init(concurrency: Int, requests: Int, bias: CalibrationBias, wire: WireBias? = nil) {
            self.concurrency = concurrency
            self.requests = requests
            self.bias = bias
            self.wire = wire
        }
    }

    /// The loopback capture behind the bias against the wire.
    public struct WireCapture: Codable, Sendable, Equatable {
        /// Why there is no bias against the wire; nil when there is.
        public var unavailable: String?
        /// Data segments to and from the server's port.
        public var segments: Int
        /// Packets the kernel's filter passed, and those it dropped for want of room (any drop withholds the bias:
        /// a missing segment would pair a token with the next one's).
        public var packets: Int
        public var dropped: Int

        public init(unavailable: String?, segments: Int = 0, packets: Int = 0, dropped: Int = 0) {
            self.unavailable = unavailable
            self.segments = segments
            self.packets = packets
            self.dropped = dropped
        }
    }

    /// The API the client spoke (`--api`): its dialect's parsing is part of what was measured.
    public var api: String
    /// The last `--bias-concurrency` and its bias (every one is in `biasRuns`).
    public var biasConcurrency: Int
    public var bias: CalibrationBias
    public var biasRuns: [BiasRun]
    public var coldBursts: [BiasRun]
    public var throughput: [ThroughputStep]
    public var concurrentStreams: ThroughputStep
    /// The capture behind each run's `wire`.
    public var wireCapture: WireCapture
    /// The CPUs the client and the synthetic servers could run on (`Cpus_allowed_list`); nil where unknown.
    public var clientCPUs: String?
    public var serverCPUs: String?

    public init(
        api: String = APIKind.openAIChat.rawValue, biasRuns: [BiasRun], coldBursts: [BiasRun],
        throughput: [ThroughputStep], concurrentStreams: ThroughputStep,
        wireCapture: WireCapture = WireCapture(unavailable: "not captured")
    ) {
        self.api = api
        self.wireCapture = wireCapture
        let last = biasRuns[biasRuns.count - 1]
        biasConcurrency = last.concurrency
        bias = last.bias
        self.biasRuns = biasRuns
        self.coldBursts = coldBursts
        self.throughput = throughput
        self.concurrentStreams = concurrentStreams
    }

    /// Pretty-printed JSON with sorted keys.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The two tables of a terminal (`tokens`: output tokens per request in the throughput steps).
    public func text(tokens: Int, style: TerminalStyle) -> String {
        var out =
            style.apply(
                .bold, "client bias against the server trace (api \(api); server at ttft 5 ms, itl 2 ms, 64 tokens)")
            + "\n"
        if let clientCPUs, let serverCPUs {
            out += "client on CPUs \(clientCPUs), servers on CPUs \(serverCPUs)\n"
        }
        var bias = TextTable(headers: ["run", "what", "median ms", "p99 ms", "n"])
        for (index, run) in (biasRuns + coldBursts).enumerated() {
            let burst = index >= biasRuns.count
            let label = Self.label(run, burst: burst)
            var rows: [(String, DistributionSummary?)] = [("TTFT: client − server", run.bias.ttftBias)]
            if burst {
                rows += [
                    ("TTFT after connect: client − server", run.bias.ttftBiasAfterConnect),
                    ("connection setup (client)", run.bias.connectionSetup),
                ]
            }
            rows += [
                ("ITL: client gap − server gap", run.bias.itlBias),
                ("delivery: received − sent", run.bias.deliveryDelay),
                ("request: server read − client write", run.bias.requestDelay),
            ]
            if burst {
                rows += [
                    ("  in the accept queue: server accept − client connect", run.bias.acceptDelay),
                    ("  after the accept: server read − server accept", run.bias.readAfterAccept),
                ]
            }
            rows += [("first token: received − sent", run.bias.firstTokenDelay)]
            Self.add(label, rows, to: &bias)
        }
        out += bias.render(style: style) + "\n"
        out += wireTable(style: style) + "\n"
        out += style.apply(.bold, "client ceiling (server at ttft=0 itl=0, \(tokens) tokens per request)") + "\n"
        var table = TextTable(headers: [
            "concurrency", "requests", "tokens/s", "requests/s", "client CPU", "peak RSS", "errors",
        ])
        for s in throughput + [concurrentStreams] {
            table.add([
                TextTable.Cell(String(s.concurrency)), TextTable.Cell(String(s.requests)),
                TextTable.Cell(String(format: "%.0f", s.outputTokensPerSecond)),
                TextTable.Cell(String(format: "%.1f", s.requestsPerSecond)),
                TextTable.Cell(String(format: "%.0f%%", s.clientCPUPercent)),
                TextTable.Cell(s.peakRSSMegabytes.map { String(format: "%.1f MB", $0) } ?? "unavailable"),
                TextTable.Cell(String(s.errors)),
            ])
        }
        out += table.render(style: style)
        out += "(the last row: 1,000 streams open at once, 50 tokens 20 ms apart)\n"
        return out
    }

    /// The bias against the wire: the client's own part, each run's rows, then the server's two queues apart.
    func wireTable(style: TerminalStyle) -> String {
        if let reason = wireCapture.unavailable {
            return style.apply(.bold, "client bias against the wire: unavailable") + " (\(reason))\n"
        }
        var out =
            style.apply(
                .bold,
                "client bias against the wire (loopback capture: \(wireCapture.segments) data segments, "
                    + "\(wireCapture.dropped) dropped)") + "\n"
        var table = TextTable(headers: ["run", "what", "median ms", "p99 ms", "n"])
        for (index, run) in (biasRuns + coldBursts).enumerated() {
            guard let wire = run.wire else { continue }
            let burst = index >= biasRuns.count
            let label = Self.label(run, burst: burst)
            var rows: [(String, DistributionSummary?)] = [("TTFT: client − wire", wire.ttftBias)]
            if burst { rows.append(("TTFT after connect: client − wire", wire.ttftBiasAfterConnect)) }
            rows += [
                ("ITL: client gap − wire gap", wire.itlBias),
                ("send: wire − client write", wire.sendDelay),
                ("receive: client − wire, first token", wire.receiveDelay),
                ("delivery: client − wire, every token", wire.deliveryDelay),
                ("not the client's: server read − wire", wire.serverReadDelay),
                ("not the client's: wire − server send", wire.serverSendDelay),
            ]
            Self.add(label, rows, to: &table)
            if wire.unmatchedRequests > 0 {
                table.add([
                    TextTable.Cell(""), TextTable.Cell("requests not found on the wire"), TextTable.Cell(""),
                    TextTable.Cell(""), TextTable.Cell(String(wire.unmatchedRequests)),
                ])
            }
        }
        return out + table.render(style: style)
    }

    /// A run's name in the bias tables.
    static func label(_ run: BiasRun, burst: Bool) -> String {
        burst ? "cold burst of \(run.concurrency)" : "concurrency \(run.concurrency), \(run.requests) requests"
    }

    /// One run's rows of a bias table (median, p99 and count of each summary there is), the run named on its first.
    static func add(_ label: String, _ rows: [(String, DistributionSummary?)], to table: inout TextTable) {
        for (row, (name, summary)) in rows.enumerated() {
            guard let summary else { continue }
            table.add([
                TextTable.Cell(row == 0 ? label : ""), TextTable.Cell(name),
                TextTable.Cell(String(format: "%.3f", summary.p50)),
                TextTable.Cell(String(format: "%.3f", summary.p99)), TextTable.Cell(String(summary.count)),
            ])
        }
    }
}
