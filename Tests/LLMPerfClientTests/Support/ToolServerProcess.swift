import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A test server that is an external tool listening on 127.0.0.1: started, waited for until
/// it accepts connections, then killed and its working folder removed.
final class ToolServerProcess {
    private let process = Process()
    private let directory: URL

    /// Nil (with everything cleaned up) when the tool never accepted a connection on `port`.
    init?(tool: String, arguments: [String], port: UInt16, directory: URL, keepStandardInputOpen: Bool = false)
        throws
    {
        self.directory = directory
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        // openssl s_server quits at the end of its standard input.
        if keepStandardInputOpen { process.standardInput = Pipe() }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<200 {
            if Self.canConnect(port) { return }
            usleep(10_000)
        }
        stop()
        return nil
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)  // some tools ignore SIGTERM mid-connection
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }

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
