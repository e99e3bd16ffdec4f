import LLMPerfCore

/// How every request of a run goes out: endpoint, API dialect, headers, connection policy,
/// HTTP version, TLS, timeouts, and the run origin all trace times are measured from.
/// Immutable and shared by reference between the requests of a run.
public final class TransportConfig: Sendable {
    public let url: String
    public let dialect: any APIDialect
    /// Header lines as sent ("Name: value"), the defaults first.
    public let headerLines: [String]
    public let connection: ConnectionPolicy
    public let http: HTTPVersionPreference
    public let tls: TLSOptions
    public let timeouts: Timeouts
    public let streaming: Bool
    /// CLOCK_MONOTONIC nanoseconds that trace times (`…AtNanos`) are relative to.
    public let originNanos: UInt64

    public init(
        url: String, dialect: any APIDialect, headers: [HeaderSpec] = [], connection: ConnectionPolicy = .reuse,
        http: HTTPVersionPreference = .http1_1, tls: TLSOptions = TLSOptions(), timeouts: Timeouts = Timeouts(),
        streaming: Bool = true, originNanos: UInt64 = MonotonicClock.nanos()
    ) {
        self.url = url
        self.dialect = dialect
        let streamType =
            dialect.streamFraming == .newlineDelimitedJSON
            ? "Accept: application/x-ndjson" : "Accept: text/event-stream"
        var lines = ["Content-Type: application/json", streaming ? streamType : "Accept: application/json"]
        // No "Expect: 100-continue" round trip for long prompts.
        lines.append("Expect:")
        lines.append("User-Agent: llmperf/\(LLMPerfVersion.current)")
        lines += dialect.defaultHeaderLines
        for header in headers {
            let name = header.name.lowercased()
            lines.removeAll { $0.lowercased().hasPrefix(name + ":") }
            lines.append("\(header.name): \(header.value)")
        }
        self.headerLines = lines
        self.connection = connection
        self.http = http
        self.tls = tls
        self.timeouts = timeouts
        self.streaming = streaming
        self.originNanos = originNanos
    }

    /// The transport settings of a scenario's target. `url` is the full endpoint URL (see
    /// `TargetSpec.endpointURL(base:)`).
    public convenience init(target: TargetSpec, url: String, streaming: Bool, originNanos: UInt64) {
        self.init(
            url: url, dialect: target.api.dialect, headers: target.headers, connection: target.connection,
            http: target.http, tls: target.tls, timeouts: target.timeouts, streaming: streaming,
            originNanos: originNanos)
    }
}

/// One request to send: its body and where it sits in the run.
public struct TransportRequest: Sendable {
    public var config: TransportConfig
    public var body: [UInt8]
    public var index: Int
    public var isWarmup: Bool
    public var promptIndex: Int
    /// Inputs the body carries (`workload.batch`; 1 but for a batched embeddings request).
    public var inputCount: Int
    /// Open loop: when the schedule wanted it sent (run-origin nanoseconds).
    public var scheduledAtNanos: UInt64?
    /// Header lines for this request only ("Name: value"), after the config's.
    public var extraHeaderLines: [String]
    /// Longest output text kept in the trace, in UTF-8 bytes (a session keeps the whole answer:
    /// the next turn sends it back).
    public var textCapBytes = ResponseAccumulator.textCapBytes

    public init(
        config: TransportConfig, body: [UInt8], index: Int = 0, isWarmup: Bool = false, promptIndex: Int = 0,
        inputCount: Int = 1, scheduledAtNanos: UInt64? = nil, extraHeaderLines: [String] = []
    ) {
        self.config = config
        self.body = body
        self.index = index
        self.isWarmup = isWarmup
        self.promptIndex = promptIndex
        self.inputCount = inputCount
        self.scheduledAtNanos = scheduledAtNanos
        self.extraHeaderLines = extraHeaderLines
    }
}
