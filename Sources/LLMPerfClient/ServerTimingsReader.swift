import Foundation
import LLMPerfCore

/// Reads a server's own timings from the one object that carries them: Ollama's last line (`done: true`) or
/// llama.cpp's last event (`timings`). The scanners only note that they are there (a bigger payload slowed
/// every line's scan by a fifth, `make bench`): this reads the object again, once per request, with
/// `JSONSerialization`. A field that is absent, not a number, negative or absurd is left nil.
enum ServerTimingsReader {
    /// Ollama: `prompt_eval_duration`, `eval_duration`, `total_duration`, `load_duration` (nanoseconds;
    /// its API reference, docs/api.md, "Generate a chat completion", the final response).
    static func ollama(_ bytes: UnsafeRawBufferPointer) -> ServerTimings {
        guard let root = object(bytes) else { return ServerTimings() }
        func nanos(_ key: String) -> UInt64? { integer(root[key]).flatMap(ServerTimings.nanos(reported:)) }
        return ServerTimings(
            promptNanos: nanos("prompt_eval_duration"), generationNanos: nanos("eval_duration"),
            totalNanos: nanos("total_duration"), loadNanos: nanos("load_duration"))
    }

    /// llama.cpp: `timings.prompt_ms`, `predicted_ms` (milliseconds, fractional), `draft_n` and
    /// `draft_n_accepted` (llama-server's README, tools/server/README.md, "POST /completion").
    static func llamaCpp(_ bytes: UnsafeRawBufferPointer) -> ServerTimings {
        guard let timings = object(bytes)?["timings"] as? [String: Any] else { return ServerTimings() }
        func nanos(_ key: String) -> UInt64? {
            (timings[key] as? NSNumber).flatMap { ServerTimings.nanos(milliseconds: $0.doubleValue) }
        }
        return ServerTimings(
            promptNanos: nanos("prompt_ms"), generationNanos: nanos("predicted_ms"),
            draftTokens: integer(timings["draft_n"]), draftAcceptedTokens: integer(timings["draft_n_accepted"]))
    }

    private static func object(_ bytes: UnsafeRawBufferPointer) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }

    /// A whole number (no fraction), nil for anything else.
    private static func integer(_ value: Any?) -> Int? {
        guard let n = value as? NSNumber else { return nil }
        let d = n.doubleValue
        guard d.isFinite, d == d.rounded(), abs(d) < 1e15 else { return nil }
        return Int(d)
    }
}
