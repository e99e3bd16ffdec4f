import Foundation

/// Runs the built `llmperf` executable as a real child process, the way a user would.
struct LLMPerfProcess {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The binary under test: `$LLMPERF_BIN` (set by `make test`), else the debug build next
    /// to this package.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["LLMPERF_BIN"], !path.isEmpty { return path }
        return repositoryRoot.appendingPathComponent(".build/debug/llmperf").path
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    /// Runs to completion (killed after `timeout`) and returns the status and output.
    static func run(
        _ arguments: [String], binary: String = LLMPerfProcess.binary, environment: [String: String] = [:],
        directory: URL? = nil,
        timeout: TimeInterval = 120
    ) throws -> Result {
        let process = try start(arguments, binary: binary, environment: environment, directory: directory)
        return try process.wait(timeout: timeout)
    }

    static func start(
        _ arguments: [String], binary: String = LLMPerfProcess.binary, environment: [String: String] = [:],
        directory: URL? = nil
    ) throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        if let directory { process.currentDirectoryURL = directory }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("llmperf-out-\(UUID().uuidString)")
        let err = FileManager.default.temporaryDirectory.appendingPathComponent("llmperf-err-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Running(process: process, stdoutPath: out, stderrPath: err)
    }

    /// `llmperf serve` on an ephemeral 127.0.0.1 port with these flags (`--engine synthetic …`), once it says
    /// where it listens: its host:port and the process (stop it with `stop()`).
    static func startServer(_ flags: [String]) throws -> (address: String, server: Running) {
        let server = try start(["serve", "--host", "127.0.0.1", "--port", "0"] + flags)
        var address: String?
        let deadline = Date().addingTimeInterval(60)
        while address == nil && Date() < deadline && server.process.isRunning {
            Thread.sleep(forTimeInterval: 0.05)
            if let range = server.stdoutSoFar.range(of: "listening on http://") {
                address = server.stdoutSoFar[range.upperBound...].split(separator: "\n").first.map(String.init)
            }
        }
        guard let address else {
            server.stop()
            throw TimedOut(stdout: server.stdoutSoFar, stderr: "serve did not start: \(server.stderrSoFar)")
        }
        return (address, server)
    }

    struct Running {
        let process: Process
        let stdoutPath: URL
        let stderrPath: URL

        var stdoutSoFar: String { (try? String(contentsOf: stdoutPath, encoding: .utf8)) ?? "" }
        var stderrSoFar: String { (try? String(contentsOf: stderrPath, encoding: .utf8)) ?? "" }

        func interrupt() { kill(process.processIdentifier, SIGINT) }

        /// Ctrl-C, then waits for it to end (killed after 30 s).
        func stop() {
            interrupt()
            _ = try? wait(timeout: 30)
        }

        func wait(timeout: TimeInterval) throws -> Result {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw TimedOut(stdout: stdoutSoFar, stderr: stderrSoFar)
            }
            process.waitUntilExit()
            defer {
                try? FileManager.default.removeItem(at: stdoutPath)
                try? FileManager.default.removeItem(at: stderrPath)
            }
            return Result(status: process.terminationStatus, stdout: stdoutSoFar, stderr: stderrSoFar)
        }
    }

    /// The optimised build (`$LLMPERF_RELEASE_BIN`, set by `make test`), for tests that run the real model; a
    /// failure that says how to provide it when unset.
    static func releaseBinary() throws -> String {
        guard let path = ProcessInfo.processInfo.environment["LLMPERF_RELEASE_BIN"], !path.isEmpty else {
            throw MissingReleaseBinary(
                description: "LLMPERF_RELEASE_BIN is not set: this test runs the real model and needs a release build "
                    + "(swift build -c release --product llmperf; make test sets it)")
        }
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw MissingReleaseBinary(description: "LLMPERF_RELEASE_BIN=\(path) is not an executable file")
        }
        return path
    }

    struct MissingReleaseBinary: Error, CustomStringConvertible {
        var description: String
    }

    struct TimedOut: Error, CustomStringConvertible {
        var stdout: String
        var stderr: String
        var description: String { "llmperf did not finish in time\nstdout:\n\(stdout)\nstderr:\n\(stderr)" }
    }
}

/// A temporary folder with a scenario file and a database path, removed by the caller.
struct Workspace {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("llmperf-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    var database: String { root.appendingPathComponent("runs.sqlite").path }

    func write(_ name: String, _ text: String) throws -> String {
        let url = root.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func remove() { try? FileManager.default.removeItem(at: root) }
}
