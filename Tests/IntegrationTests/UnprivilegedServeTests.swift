import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `llmperf serve` without root's network privileges, as most users run it: every connection is answered. (Its
/// connection setup once asked for SO_DEBUG, which needs CAP_NET_ADMIN: run as root it passed unnoticed, run as
/// anyone else every request hung.) Under root (CI), CAP_NET_ADMIN is dropped with util-linux's `setpriv`.
@Suite(.serialized) struct UnprivilegedServeTests {
    @Test func serveWithoutNetAdminAnswersEveryConnection() async throws {
        let arguments = ["serve", "--engine", "synthetic", "--host", "127.0.0.1", "--port", "0", "--tokens", "3"]
        let server =
            getuid() == 0
            ? try LLMPerfProcess.start(
                ["--bounding-set", "-net_admin", LLMPerfProcess.binary] + arguments, binary: "/usr/bin/setpriv")
            : try LLMPerfProcess.start(arguments)
        defer { server.stop() }
        var base: String?
        for _ in 0..<1200 where base == nil && server.process.isRunning {
            if let line = server.stdoutSoFar.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) {
                base = String(line.dropFirst("listening on ".count))
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let url = try #require(base, "serve did not start: \(server.stderrSoFar)")
        if getuid() == 0 {
            // The server really runs without it.
            let status = try String(contentsOfFile: "/proc/\(server.process.processIdentifier)/status", encoding: .utf8)
            let effective = try #require(status.split(separator: "\n").first { $0.hasPrefix("CapEff:") })
            let bits = try #require(UInt64(effective.split(separator: "\t").last ?? "", radix: 16))
            #expect(bits & (1 << 12) == 0, "CAP_NET_ADMIN is still effective: \(effective)")
        }

        for _ in 0..<3 {  // three connections, each answered
            var request = URLRequest(url: URL(string: url + "/v1/chat/completions")!)
            request.httpMethod = "POST"
            request.timeoutInterval = 20
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.setValue("close", forHTTPHeaderField: "Connection")
            request.httpBody = Data(#"{"model":"synthetic","messages":[{"role":"user","content":"hi"}]}"#.utf8)
            let (data, response) = try await URLSession.shared.data(for: request)
            #expect((response as? HTTPURLResponse)?.statusCode == 200, "\(String(decoding: data, as: UTF8.self))")
            let body = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let usage = try #require(body["usage"] as? [String: Any], "\(body)")
            #expect(usage["completion_tokens"] as? Int == 3)
        }
        #expect(!server.stderrSoFar.contains("setting up a connection failed"), "\(server.stderrSoFar)")
    }
}
