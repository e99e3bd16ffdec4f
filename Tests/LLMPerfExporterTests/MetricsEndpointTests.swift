import Foundation
import Testing

@testable import LLMPerfExporter

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `--metrics-listen`'s address and the endpoint behind it.
@Suite struct MetricsEndpointTests {
    @Test func addressesParseAndMistakesSayWhatIsWrong() throws {
        #expect(
            try MetricsListenAddress(parsing: "127.0.0.1:9464") == MetricsListenAddress(host: "127.0.0.1", port: 9464))
        #expect(try MetricsListenAddress(parsing: "localhost:0") == MetricsListenAddress(host: "localhost", port: 0))
        #expect(try MetricsListenAddress(parsing: "[::1]:9464") == MetricsListenAddress(host: "::1", port: 9464))
        #expect(MetricsListenAddress(host: "::1", port: 9464).description == "[::1]:9464")
        let mistakes = [
            ("127.0.0.1:99999", "the port must be a number from 0 to 65535, got '99999'"),
            ("nonsense", "expected HOST:PORT such as 127.0.0.1:9464"),
            (":9464", "no host before the port"),
            ("127.0.0.1:", "the port must be a number"),
            ("::1:9464", "write an IPv6 host in brackets"),
        ]
        for (text, message) in mistakes {
            do {
                _ = try MetricsListenAddress(parsing: text)
                Issue.record("'\(text)' parsed")
            } catch {
                #expect(error.description.hasPrefix("--metrics-listen '\(text)'"), "\(error)")
                #expect(error.description.contains(message), "\(error)")
            }
        }
    }

    @Test func servesTheRegistryAndATakenPortIsAnErrorOnStart() async throws {
        let metrics = ClientMetrics()
        let endpoint = try await MetricsEndpoint.start(
            MetricsListenAddress(host: "127.0.0.1", port: 0), registry: metrics.registry)
        #expect(endpoint.address.port != 0)
        let (body, response) = try await URLSession.shared.data(from: URL(string: endpoint.url)!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(
            (response as? HTTPURLResponse)?.value(forHTTPHeaderField: "Content-Type")?.hasPrefix("text/plain") == true)
        #expect(String(decoding: body, as: UTF8.self).contains("# TYPE llmperf_client_requests_total counter"))
        do {
            let second = try await MetricsEndpoint.start(endpoint.address, registry: metrics.registry)
            await second.stop()
            Issue.record("a second endpoint listened on \(endpoint.address)")
        } catch {
            #expect(
                error.description.hasPrefix(
                    "--metrics-listen \(endpoint.address): cannot listen there: address already in use"),
                "\(error)")
        }
        await endpoint.stop()
        // Stopped: the port is free again.
        let again = try await MetricsEndpoint.start(endpoint.address, registry: metrics.registry)
        await again.stop()
    }
}
