import LLMPerfClient
import LLMPerfCore

/// Shorthands for building requests against a scripted server.
enum TestTransport {
    static let workload = WorkloadSpec(prompts: [Prompt(user: "hello")], maxTokens: 16, stream: true)

    static func config(
        _ url: String, connection: ConnectionPolicy = .reuse, timeouts: Timeouts = Timeouts(),
        streaming: Bool = true, headers: [HeaderSpec] = [], tls: TLSOptions = TLSOptions(),
        dialect: any APIDialect = OpenAIChatDialect()
    ) -> TransportConfig {
        TransportConfig(
            url: url, dialect: dialect, headers: headers, connection: connection, tls: tls, timeouts: timeouts,
            streaming: streaming, originNanos: MonotonicClock.nanos())
    }

    static func request(_ config: TransportConfig, index: Int = 0) -> TransportRequest {
        var w = workload
        w.stream = config.streaming
        let body = config.dialect.requestBody(prompt: w.prompts[0], workload: w, model: "test-model")
        return TransportRequest(config: config, body: body, index: index)
    }

    /// A 127.0.0.1 port nothing listens on.
    static func closedPort() throws -> UInt16 {
        let (fd, port) = try ScriptedServer.listen(backlog: 1)
        close(fd)
        return port
    }
}

#if canImport(Glibc)
    import Glibc
#endif
