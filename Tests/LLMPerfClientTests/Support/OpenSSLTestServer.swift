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
    private let process: Process
    private let directory: URL

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
        let tool = Self.tool
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("llmperf-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        guard let (cert, key) = try Self.makeCertificate(in: directory) else {
            try? FileManager.default.removeItem(at: directory)
            return nil
        }
        certificatePath = cert

        port = try TestTransport.closedPort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", cert, "-key", key, "-quiet"]
        process.standardInput = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready once it accepts connections.
        for _ in 0..<200 {
            if Self.canConnect(port) { return }
            usleep(10_000)
        }
        stop()
        return nil
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)  // s_server may ignore SIGTERM mid-connection
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }

    var url: String { "https://127.0.0.1:\(port)/v1/chat/completions" }

    static func canConnect(_ port: UInt16) -> Bool {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
