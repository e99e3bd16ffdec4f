import Foundation
import InferenceServer
import Testing

@Suite("HTTPS")
struct TLSTests {
    @Test func streamsOverHTTPS() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let openssl = try await runProcess(
            "openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout", key, "-out", certificate,
            ])
        #expect(openssl.status == 0)
        var configuration = syntheticConfiguration()
        configuration.tlsCertificatePath = certificate
        configuration.tlsKeyPath = key
        try await withServer(configuration) { server in
            #expect(server.url.hasPrefix("https://127.0.0.1:"))
            let curl = try await runProcess(
                "curl",
                [
                    "-sS", "--cacert", certificate, "-H", "Content-Type: application/json", "-d",
                    chatBody(maxTokens: 3, stream: true), "\(server.url)/v1/chat/completions",
                ])
            #expect(curl.status == 0)
            #expect(curl.output.contains(#""content":" ipsum""#))
            #expect(curl.output.hasSuffix("data: [DONE]\n\n"))
        }
    }

    @Test func certificateWithoutKeyIsRejected() async throws {
        var configuration = syntheticConfiguration()
        configuration.tlsCertificatePath = "/nonexistent.pem"
        await #expect(throws: LLMServerError.self) {
            try await LLMServer.run(configuration: configuration, handleSignals: false)
        }
    }
}

/// Runs a command from PATH without blocking the cooperative pool; returns status and stdout.
func runProcess(_ command: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [command] + arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do { try process.run() } catch { continuation.resume(throwing: error) }
    }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    return (status, String(decoding: data, as: UTF8.self))
}
