import Foundation
import Testing

/// `llmperf serve`'s fault and limit flags through the built executable: unknown fault names are refused with
/// the valid ones, and the flags reach the server.
@Suite("serve flags for faults and limits")
struct ServeFaultFlagsTests {
    /// `$LLMPERF_BIN` (set by `make test`), else the debug build of this package.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["LLMPERF_BIN"], !path.isEmpty { return path }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/llmperf").path
    }

    static func process(_ arguments: [String]) -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        return (process, out, err)
    }

    /// Runs to completion (killed after 60 s) and returns the exit status and standard error.
    static func run(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let (process, _, err) = process(arguments)
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        )
    }

    @Test func unknownFaultNamesAreRefusedWithTheValidOnes() throws {
        for arguments in [
            ["serve", "--fault", "no_such_fault"], ["serve", "--fault-mix", "none=1,no_such_fault=2"],
        ] {
            let result = try Self.run(arguments)
            #expect(result.status == 2, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("no_such_fault"))
            for name in ["none", "http_429", "reset_mid_stream", "multi_token_events"] {
                #expect(result.stderr.contains(name), "\(arguments) should list \(name)")
            }
        }
        for arguments in [
            ["serve", "--fault", "none", "--fault-mix", "none=1"], ["serve", "--fault-mix", "none=0"],
            ["serve", "--fault-after", "-1", "--fault", "none"], ["serve", "--fault-drip", "fast", "--fault", "drip"],
            ["serve", "--max-body", "0"], ["serve", "--header-timeout", "0s"], ["serve", "--max-queue", "4"],
        ] {
            #expect(try Self.run(arguments).status == 2, "\(arguments)")
        }
    }

    @Test func theFlagsReachTheServer() async throws {
        let (process, out, _) = Self.process([
            "serve", "--engine", "synthetic", "--port", "0", "--fault-mix", "http_500=1", "--fault-seed", "3",
            "--max-body", "1KiB",
        ])
        try process.run()
        defer {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
        // "listening on http://127.0.0.1:PORT"
        var line = Data()
        let handle = out.fileHandleForReading
        while !line.contains(0x0A) {
            let byte = handle.readData(ofLength: 1)
            if byte.isEmpty { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        let port = try #require(
            text.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) },
            "\(text)")
        let failed = try #require(
            try await RawSocketClient.exchange(
                port: port, request: RawSocketClient.post("/v1/chat/completions", json: chatBody(maxTokens: 2))
            ).response)
        #expect(failed.status == 500)
        let tooLarge = try #require(
            try await RawSocketClient.exchange(
                port: port,
                request: RawSocketClient.post(
                    "/v1/chat/completions", json: chatBody(String(repeating: "a", count: 2000), maxTokens: 2))
            ).response)
        #expect(tooLarge.status == 413)
        let overridden = try #require(
            try await RawSocketClient.exchange(
                port: port,
                request: RawSocketClient.post(
                    "/v1/chat/completions", json: chatBody(maxTokens: 2), headers: ["x-llmperf-fault": "none"])
            ).response)
        #expect(overridden.status == 200)
    }
}
