import LLMPerfClient
import LLMPerfCore
import Testing

/// `http: 2` against nghttpd (`make test` installs it; a missing nghttpd fails the tests).
@Suite(.serialized) struct HTTP2Tests {
    private func run(_ server: NghttpdTestServer, connection: ConnectionPolicy) async -> [RequestTrace] {
        let config = TransportConfig(
            url: server.url, dialect: OpenAIChatDialect(), connection: connection, http: .http2,
            tls: TLSOptions(caFile: server.certificatePath), originNanos: MonotonicClock.nanos())
        let driver = LoadDriver(
            config: config, workload: WorkloadSpec(prompts: [Prompt(user: "hi")]), model: "m",
            load: LoadSpec(shape: .closed(concurrency: 8), stop: .requests(24)))
        return await driver.run()
    }

    /// h2 over TLS by ALPN: concurrent requests multiplex on one connection (PIPEWAIT).
    @Test func tlsMultiplexesOnOneConnection() async throws {
        let server = try #require(
            try NghttpdTestServer(tls: true), "nghttpd is missing (Debian: nghttp2-server; `make test` installs it)")
        defer { server.stop() }
        let traces = await run(server, connection: .reuse)
        #expect(traces.count == 24)
        #expect(
            traces.allSatisfy { $0.outcome == .ok && $0.outputText == "ab" },
            "\(traces.map { "\($0.outcome)" })")
        #expect(traces.allSatisfy { $0.connection.httpVersion == "2" })
        // Multiplexed: the first wave's eight concurrent requests share a connection rather than
        // opening one each (HTTP/1.1 would need eight). Usually exactly one connection; a bound, not
        // an exact count, because libcurl may open a second before it knows the first speaks h2.
        let fresh = traces.filter { !$0.connection.reused }.count
        #expect(fresh >= 1 && fresh <= 3, "\(fresh) new connections for 24 requests at concurrency 8")
        #expect(traces.contains { $0.tlsNanos > 0 })
    }

    /// h2c by prior knowledge, a new connection per request (reusing an h2c connection fails
    /// with libcurl 7.88.1: see `CurlTransfer`).
    @Test func cleartextPriorKnowledge() async throws {
        let server = try #require(
            try NghttpdTestServer(tls: false), "nghttpd is missing (Debian: nghttp2-server; `make test` installs it)")
        defer { server.stop() }
        let traces = await run(server, connection: .new)
        #expect(
            traces.allSatisfy { $0.outcome == .ok && $0.outputText == "ab" },
            "\(traces.map { "\($0.outcome)" })")
        #expect(traces.allSatisfy { $0.connection.httpVersion == "2" && !$0.connection.reused })
    }
}
