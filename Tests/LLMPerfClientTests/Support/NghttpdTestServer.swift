import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `nghttpd` (nghttp2's HTTP/2 server) on 127.0.0.1, serving a fixed SSE stream at
/// `/v1/chat/completions`, over TLS (h2 by ALPN) or cleartext (h2c, prior knowledge). Nil
/// when nghttpd or openssl is not installed (Debian: `nghttp2-server`).
final class NghttpdTestServer {
    let port: UInt16
    let certificatePath: String
    let tls: Bool
    private let server: ToolServerProcess

    static let stream =
        "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"b\"}}]}\n\ndata: [DONE]\n\n"

    init?(tls: Bool) throws {
        let tool = "/usr/sbin/nghttpd"
        guard FileManager.default.isExecutableFile(atPath: tool) else { return nil }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "llmperf-h2-\(UUID().uuidString)")
        let docs = directory.appendingPathComponent("docs/v1/chat")
        try FileManager.default.createDirectory(at: docs, withIntermediateDirectories: true)
        try Data(Self.stream.utf8).write(to: docs.appendingPathComponent("completions"))
        guard let (cert, key) = try OpenSSLTestServer.makeCertificate(in: directory) else {
            try? FileManager.default.removeItem(at: directory)
            return nil
        }
        let port = try TestTransport.closedPort()
        var arguments = ["-d", directory.appendingPathComponent("docs").path, "--address=127.0.0.1"]
        arguments += tls ? ["\(port)", key, cert] : ["--no-tls", "\(port)"]
        guard let server = try ToolServerProcess(tool: tool, arguments: arguments, port: port, directory: directory)
        else { return nil }
        self.server = server
        self.port = port
        self.tls = tls
        certificatePath = cert
    }

    func stop() { server.stop() }

    var url: String { "\(tls ? "https" : "http")://127.0.0.1:\(port)/v1/chat/completions" }
}
