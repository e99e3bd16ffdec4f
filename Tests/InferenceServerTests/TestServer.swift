import Foundation
import InferenceServer

/// Starts a server on an ephemeral port for the duration of `body`.
func withServer<T>(
    _ configuration: ServerConfiguration = ServerConfiguration(port: 0),
    _ body: (RunningServer) async throws -> T
) async throws -> T {
    var configuration = configuration
    configuration.port = 0
    configuration.host = "127.0.0.1"
    let server = try await LLMServer.start(configuration: configuration)
    do {
        let result = try await body(server)
        try await server.stop()
        return result
    } catch {
        try? await server.stop()
        throw error
    }
}

func syntheticConfiguration(
    ttftMs: Double = 0, itlMs: Double = 0, tokens: Int = 16, contextLength: Int = 4096, tracePath: String? = nil,
    maxBodyBytes: Int = 1 << 20
) -> ServerConfiguration {
    ServerConfiguration(
        port: 0,
        engine: ServerConfiguration.synthetic(
            ttftMs: ttftMs, itlMs: itlMs, tokens: tokens, contextLength: contextLength),
        tracePath: tracePath, maxBodyBytes: maxBodyBytes)
}

/// Parses an SSE event payload.
func eventJSON(_ event: String) throws -> [String: Any] {
    guard let object = try JSONSerialization.jsonObject(with: Data(event.utf8)) as? [String: Any] else {
        throw TestFailure("event is not a JSON object: \(event)")
    }
    return object
}

func chatBody(
    _ content: String = "Say something", maxTokens: Int? = nil, stream: Bool = false, includeUsage: Bool? = nil,
    extra: String = ""
) -> String {
    var body = "{\"model\":\"synthetic\",\"messages\":[{\"role\":\"user\",\"content\":\"\(content)\"}]"
    if let maxTokens { body += ",\"max_tokens\":\(maxTokens)" }
    body += ",\"stream\":\(stream)"
    if let includeUsage { body += ",\"stream_options\":{\"include_usage\":\(includeUsage)}" }
    body += extra + "}"
    return body
}

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("llmperf-server-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
