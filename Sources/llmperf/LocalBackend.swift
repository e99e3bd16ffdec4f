import Foundation
import LLMPerfClient
import LLMPerfCore

/// `target: {backend: local}`: runs `llmperf serve` as a child process on an ephemeral
/// 127.0.0.1 port, waits for `/health`, and stops it afterwards.
final class LocalBackend {
    let process: Process
    let baseURL: String
    let caFile: String?
    let logPath: String
    private let workDir: URL

    struct StartError: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts the backend and returns once `/health` answers 200 (or throws with the log tail).
    static func start(_ spec: LocalBackendSpec, readyTimeout: Duration = .seconds(180)) throws -> LocalBackend {
        let workDir = FileManager.default.temporaryDirectory.appendingPathComponent(
            "llmperf-backend-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: workDir, withIntermediateDirectories: true)
        var arguments = ["serve", "--host", "127.0.0.1", "--port", "0"] + spec.serveArguments
        var caFile: String?
        if spec.tls {
            let (cert, key) = try TestCertificate.make(in: workDir)
            arguments += ["--tls-cert", cert, "--tls-key", key]
            caFile = cert
        }
        let logPath = workDir.appendingPathComponent("serve.log").path
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ExecutablePath.current)
        process.arguments = arguments
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle(forWritingAtPath: logPath)
        process.standardInput = FileHandle.nullDevice
        try process.run()

        // The server prints `listening on http(s)://127.0.0.1:PORT` once bound.
        let deadline = ContinuousClock.now + readyTimeout
        var buffered = Data()
        var listening: String?
        let reader = stdout.fileHandleForReading
        while listening == nil {
            let chunk = reader.availableData
            if chunk.isEmpty { break }  // EOF: the process ended
            buffered.append(chunk)
            for line in String(decoding: buffered, as: UTF8.self).split(separator: "\n") {
                if let range = line.range(of: "listening on ") {
                    listening = String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
                }
            }
        }
        guard let listening else {
            process.waitUntilExit()
            throw StartError(description: "the local backend exited before listening:\n\(Self.tail(logPath))")
        }
        // Keep draining stdout so the child never blocks on a full pipe.
        reader.readabilityHandler = { handle in _ = handle.availableData }
        let backend = LocalBackend(
            process: process, baseURL: listening, caFile: caFile, logPath: logPath, workDir: workDir)
        while ContinuousClock.now < deadline {
            if !process.isRunning {
                throw StartError(description: "the local backend stopped while loading:\n\(Self.tail(logPath))")
            }
            if let response = HTTPProbe.get(listening + "/health", timeoutMilliseconds: 1_000, caFile: caFile),
                response.status == 200
            {
                return backend
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        backend.stop()
        throw StartError(
            description: "the local backend was not healthy within \(readyTimeout):\n\(Self.tail(logPath))")
    }

    private init(process: Process, baseURL: String, caFile: String?, logPath: String, workDir: URL) {
        self.process = process
        self.baseURL = baseURL
        self.caFile = caFile
        self.logPath = logPath
        self.workDir = workDir
    }

    /// The OpenAI base URL (`…/v1`).
    var apiBaseURL: String { baseURL + "/v1" }

    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: workDir)
    }

    static func tail(_ path: String, lines: Int = 20) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "(no log)" }
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}

/// The path of the running llmperf binary, so child processes run the same build.
enum ExecutablePath {
    static var current: String {
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return resolved
        }
        return CommandLine.arguments[0]
    }
}

/// A self-signed certificate for 127.0.0.1/localhost made with the `openssl` command, for
/// serving the local backend over HTTPS.
enum TestCertificate {
    static func make(in directory: URL) throws -> (cert: String, key: String) {
        let cert = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw LocalBackend.StartError(description: "cannot run openssl to make a TLS certificate: \(error)")
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LocalBackend.StartError(
                description: "openssl failed to make a TLS certificate (status \(process.terminationStatus))")
        }
        return (cert, key)
    }
}
