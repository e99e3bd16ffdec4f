import Foundation
import LLMPerfCore

/// A started backend the run measures: its OpenAI base URL, the CA file to trust (HTTPS), and
/// how to stop it.
public protocol RunningBackend: AnyObject {
    /// The OpenAI base URL (`…/v1`).
    var apiBaseURL: String { get }
    var caFile: String? { get }
    func stop()
}

/// Starts the backend of `target: {backend: local}` (a child process; a fake in tests).
public protocol BackendLauncher: Sendable {
    func start(_ spec: LocalBackendSpec) throws -> any RunningBackend
}

/// GET `url` within `timeoutMilliseconds` (trusting `caFile`); the HTTP status, nil when none came.
public typealias HealthProbe = @Sendable (_ url: String, _ timeoutMilliseconds: Int, _ caFile: String?) -> Int?

/// Starts `llmperf serve` child processes (`LocalBackend`), probing `/health` with `probe`.
public struct LocalBackendLauncher: BackendLauncher {
    public var probe: HealthProbe

    public init(probe: @escaping HealthProbe) { self.probe = probe }

    public func start(_ spec: LocalBackendSpec) throws -> any RunningBackend {
        try LocalBackend.start(spec, probe: probe)
    }
}

/// `target: {backend: local}`: runs `llmperf serve` as a child process on an ephemeral
/// 127.0.0.1 port, waits for `/health`, and stops it afterwards.
public final class LocalBackend: RunningBackend {
    let process: Process
    public private(set) var baseURL: String
    public let caFile: String?
    let logPath: String
    private let workDir: URL

    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    /// How long a start may take in all, from spawning to `/health` answering 200:
    /// `$LLMPERF_BACKEND_START_TIMEOUT` (a duration such as 30s or 5m), else 3 minutes (loading a
    /// large model on a slow disk).
    static func defaultStartTimeout(environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> Duration
    {
        guard let text = environment["LLMPERF_BACKEND_START_TIMEOUT"], !text.isEmpty else { return .seconds(180) }
        guard let duration = DurationParser.parse(text), duration > .zero else {
            throw StartError(
                description: "LLMPERF_BACKEND_START_TIMEOUT: expected \(DurationParser.expectation), got '\(text)'")
        }
        return duration
    }

    /// Starts the backend and returns once `/health` answers 200. One deadline covers it all
    /// (the child printing its address, then answering `/health`): when it passes, or the child
    /// ends first, the child is stopped and the error carries its log tail.
    public static func start(_ spec: LocalBackendSpec, readyTimeout: Duration? = nil, probe: HealthProbe) throws
        -> LocalBackend
    {
        let readyTimeout = try readyTimeout ?? defaultStartTimeout()
        let deadline = ContinuousClock.now + readyTimeout
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
        // The child stops itself if this process dies without stopping it (kill -9).
        var environment = ProcessInfo.processInfo.environment
        environment[ParentWatch.environmentKey] = String(ProcessInfo.processInfo.processIdentifier)
        process.environment = environment
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle(forWritingAtPath: logPath)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let backend = LocalBackend(process: process, baseURL: "", caFile: caFile, logPath: logPath, workDir: workDir)
        func failure(_ what: String) -> StartError {
            let log = Self.tail(logPath)  // stopping removes the log
            backend.stop()
            let shown = log.trimmingCharacters(in: .whitespacesAndNewlines)
            return StartError(description: shown.isEmpty ? what : "\(what); its log ends:\n\(shown)")
        }

        // The server prints `listening on http(s)://127.0.0.1:PORT` once bound; wait for it
        // with poll(2), never past the deadline.
        let reader = stdout.fileHandleForReading
        var buffered = Data()
        var listening: String?
        while listening == nil {
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                throw failure(
                    "the local backend (pid \(process.processIdentifier)) did not report its address within "
                        + "\(readyTimeout); it was stopped")
            }
            switch Self.readOnce(reader.fileDescriptor, waitingAtMost: left) {
            case .timedOut:
                continue
            case .ended:
                throw failure("the local backend exited before listening")
            case .data(let chunk):
                buffered.append(chunk)
                for line in String(decoding: buffered, as: UTF8.self).split(separator: "\n") {
                    if let range = line.range(of: "listening on ") {
                        listening = String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
                    }
                }
            }
        }
        guard let listening else { throw failure("the local backend printed no address") }
        // Keep draining stdout so the child never blocks on a full pipe.
        reader.readabilityHandler = { handle in _ = handle.availableData }
        backend.baseURL = listening
        while ContinuousClock.now < deadline {
            if !process.isRunning { throw failure("the local backend stopped while loading") }
            let left = deadline - ContinuousClock.now
            // Whole seconds left, as milliseconds: under a second left gives a 1 ms probe.
            let probeMilliseconds = max(1, min(1_000, Int(left.wholeNanoseconds / 1_000_000_000) * 1_000 + 1))
            if probe(listening + "/health", probeMilliseconds, caFile) == 200 {
                return backend
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw failure(
            "the local backend (pid \(process.processIdentifier)) was not healthy within \(readyTimeout); it was stopped"
        )
    }

    enum ReadResult {
        case data(Data)
        case ended
        case timedOut
    }

    /// One read from `fd`, waiting at most `timeout` for bytes.
    static func readOnce(_ fd: Int32, waitingAtMost timeout: Duration) -> ReadResult {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(clamping: timeout.wholeNanoseconds / 1_000_000 + 1)
        let ready = poll(&descriptor, 1, milliseconds)
        if ready < 0 { return errno == EINTR ? .timedOut : .ended }
        if ready == 0 { return .timedOut }
        var bytes = [UInt8](repeating: 0, count: 4_096)
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 { return errno == EINTR || errno == EAGAIN ? .timedOut : .ended }
        if count == 0 { return .ended }
        return .data(Data(bytes[0..<count]))
    }

    private init(process: Process, baseURL: String, caFile: String?, logPath: String, workDir: URL) {
        self.process = process
        self.baseURL = baseURL
        self.caFile = caFile
        self.logPath = logPath
        self.workDir = workDir
    }

    /// The OpenAI base URL (`…/v1`).
    public var apiBaseURL: String { baseURL + "/v1" }

    public func stop() {
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
public enum ExecutablePath {
    public static var current: String {
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
