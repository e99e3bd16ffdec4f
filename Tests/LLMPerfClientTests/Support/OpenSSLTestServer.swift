import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `openssl s_server` on 127.0.0.1 with a throwaway self-signed certificate (for 127.0.0.1),
/// to test TLS verification. It completes handshakes and never answers a request. Nil when
/// the `openssl` tool is not installed.
final class OpenSSLTestServer {
    let port: UInt16
    let certificatePath: String
    private let server: ToolServerProcess

    static let tool = "/usr/bin/openssl"

    /// Writes a self-signed certificate for 127.0.0.1 and its key into `directory`; false
    /// when openssl is missing or fails.
    static func makeCertificate(in directory: URL) throws -> (cert: String, key: String)? {
        guard FileManager.default.isExecutableFile(atPath: tool) else { return nil }
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let make = Process()
        make.executableURL = URL(fileURLWithPath: tool)
        make.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
            "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ]
        make.standardOutput = FileHandle.nullDevice
        make.standardError = FileHandle.nullDevice
        try make.run()
        make.waitUntilExit()
        return make.terminationStatus == 0 ? (cert, key) : nil
    }

    init?() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "llmperf-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        guard let (cert, key) = try Self.makeCertificate(in: directory) else {
            try? FileManager.default.removeItem(at: directory)
            return nil
        }
        let port = try TestTransport.closedPort()
        guard
            let server = try ToolServerProcess(
                tool: Self.tool,
                arguments: ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", cert, "-key", key, "-quiet"],
                port: port, directory: directory, keepStandardInputOpen: true)
        else { return nil }
        self.server = server
        self.port = port
        certificatePath = cert
    }

    func stop() { server.stop() }

    var url: String { "https://127.0.0.1:\(port)/v1/chat/completions" }
}
