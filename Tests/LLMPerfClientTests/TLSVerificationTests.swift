import LLMPerfClient
import LLMPerfCore
import Testing

/// Certificates are verified by default; `ca_file` adds a trusted authority; `insecure`
/// skips verification. Against `openssl s_server` (`make test` installs openssl; without it the tests fail), which
/// completes the handshake but never answers, so a trusted request ends in its total timeout.
@Suite(.serialized) struct TLSVerificationTests {
    let loop = CurlMultiLoop()

    @Test func verificationDefaultsCAFileAndInsecure() async throws {
        let server = try #require(try OpenSSLTestServer(), "openssl is missing (`make test` installs it)")
        defer { server.stop() }
        let timeouts = Timeouts(connect: .seconds(5), total: .milliseconds(300))

        let untrusted = await loop.perform(TestTransport.request(TestTransport.config(server.url, timeouts: timeouts)))
        #expect(untrusted.outcome.failureKind == .tls, "\(untrusted.outcome)")

        let trusted = await loop.perform(
            TestTransport.request(
                TestTransport.config(
                    server.url, connection: .new, timeouts: timeouts, tls: TLSOptions(caFile: server.certificatePath))))
        #expect(trusted.outcome.failureKind == .timeout(.total), "\(trusted.outcome)")
        #expect(trusted.tlsNanos > trusted.connectNanos && trusted.connectNanos > 0)

        let insecure = await loop.perform(
            TestTransport.request(
                TestTransport.config(server.url, connection: .new, timeouts: timeouts, tls: TLSOptions(insecure: true)))
        )
        #expect(insecure.outcome.failureKind == .timeout(.total), "\(insecure.outcome)")
        #expect(insecure.tlsNanos > 0)
    }
}
