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

    /// llama.cpp: `timings.prompt_ms`, `predicted_ms` (milliseconds, fractional), `cache_n`, `draft_n` and
    /// `draft_n_accepted` (llama-server's README, tools/server/README.md, "POST /completion"; its OpenAI-compatible
    /// streams carry the same object in their last chunk). `llmperf serve` adds `queue_ms`, `preprocess_ms`,
    /// `postprocess_ms`, `total_ms` and `batch_size` (`ServerPhases` in the server).
    ///
    /// Read with `JSONCursor`, once per request: `JSONSerialization` of the last chunk cost the client 50 µs a
    /// request (13% more CPU at 3,000 requests/s, `perf`). A payload the cursor does not take (an escaped key, a
    /// value of another type) is read again with `JSONSerialization`, which gives the same fields.
    static func llamaCpp(_ bytes: UnsafeRawBufferPointer) -> ServerTimings {
        var c = JSONCursor(bytes)
        guard c.consume(0x7B) else { return llamaCppSlow(bytes) }
        if c.consume(0x7D) { return ServerTimings() }
        repeat {
            guard let key = c.rawString(), !key.escaped, c.consume(0x3A) else { return llamaCppSlow(bytes) }
            if c.rawEquals(key, "timings") { return timings(&c) ?? llamaCppSlow(bytes) }
            guard c.skipValue() else { return llamaCppSlow(bytes) }
        } while c.consume(0x2C)
        return ServerTimings()
    }

    /// The `timings` object at the cursor; nil when it holds anything the cursor does not take.
    private static func timings(_ c: inout JSONCursor) -> ServerTimings? {
        var out = ServerTimings()
        guard c.consume(0x7B) else { return c.consumeNull() ? out : nil }
        if c.consume(0x7D) { return out }
        repeat {
            guard let key = c.rawString(), !key.escaped, c.consume(0x3A) else { return nil }
            if c.consumeNull() { continue }
            func number() -> Double? { c.double() }
            if c.rawEquals(key, "prompt_ms") {
                guard let v = number() else { return nil }
                out.promptNanos = ServerTimings.nanos(milliseconds: v)
            } else if c.rawEquals(key, "predicted_ms") {
                guard let v = number() else { return nil }
                out.generationNanos = ServerTimings.nanos(milliseconds: v)
            } else if c.rawEquals(key, "total_ms") {
                guard let v = number() else { return nil }
                out.totalNanos = ServerTimings.nanos(milliseconds: v)
            } else if c.rawEquals(key, "queue_ms") {
                guard let v = number() else { return nil }
                out.queueNanos = ServerTimings.nanos(milliseconds: v)
            } else if c.rawEquals(key, "preprocess_ms") {
                guard let v = number() else { return nil }
                out.preprocessNanos = ServerTimings.nanos(milliseconds: v)
            } else if c.rawEquals(key, "postprocess_ms") {
                guard let v = number() else { return nil }
                out.postprocessNanos = ServerTimings.nanos(milliseconds: v)
            } else if c.rawEquals(key, "draft_n") {
                guard let v = number() else { return nil }
                out.draftTokens = integer(v)
            } else if c.rawEquals(key, "draft_n_accepted") {
                guard let v = number() else { return nil }
                out.draftAcceptedTokens = integer(v)
            } else if c.rawEquals(key, "cache_n") {
                guard let v = number() else { return nil }
                out.cachedTokens = integer(v)
            } else if c.rawEquals(key, "batch_size") {
                guard let v = number() else { return nil }
                out.batchSize = batchSize(v)
            } else {
                guard c.skipValue() else { return nil }
            }
        } while c.consume(0x2C)
        return c.consume(0x7D) ? out : nil
    }

    /// The same fields through `JSONSerialization`, for what the cursor does not take.
    static func llamaCppSlow(_ bytes: UnsafeRawBufferPointer) -> ServerTimings {
        guard let timings = object(bytes)?["timings"] as? [String: Any] else { return ServerTimings() }
        func nanos(_ key: String) -> UInt64? {
            (timings[key] as? NSNumber).flatMap { ServerTimings.nanos(milliseconds: $0.doubleValue) }
        }
        return ServerTimings(
            promptNanos: nanos("prompt_ms"), generationNanos: nanos("predicted_ms"), totalNanos: nanos("total_ms"),
            draftTokens: integer(timings["draft_n"]), draftAcceptedTokens: integer(timings["draft_n_accepted"]),
            queueNanos: nanos("queue_ms"), preprocessNanos: nanos("preprocess_ms"),
            postprocessNanos: nanos("postprocess_ms"), cachedTokens: integer(timings["cache_n"]),
            batchSize: (timings["batch_size"] as? NSNumber).flatMap { batchSize($0.doubleValue) })
    }

    /// A mean batch size, nil when it is no count of sequences (negative, infinite, absurd).
    private static func batchSize(_ value: Double) -> Double? {
        value.isFinite && value >= 0 && value < 1e9 ? value : nil
    }

    /// A `Server-Timing` header (W3C Server Timing: `name;dur=ms;desc="…"`, comma-separated) naming the phases
    /// `llmperf serve` writes on answers that are not streamed: `preprocess`, `queue`, `prefill`, `decode`,
    /// `postprocess`, `total`. Other names are ignored; a metric without a valid `dur` is skipped.
    static func serverTiming(_ header: String) -> ServerTimings {
        var out = ServerTimings()
        for metric in header.split(separator: ",") {
            let parts = metric.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let name = parts.first?.lowercased() else { continue }
            var duration: UInt64?
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
                if pair.count == 2, pair[0].lowercased() == "dur", let ms = Double(pair[1]) {
                    duration = ServerTimings.nanos(milliseconds: ms)
                }
            }
            guard let duration else { continue }
            switch name {
            case "preprocess": out.preprocessNanos = duration
            case "queue": out.queueNanos = duration
            case "prefill": out.promptNanos = duration
            case "decode": out.generationNanos = duration
            case "postprocess": out.postprocessNanos = duration
            case "total": out.totalNanos = duration
            default: continue
            }
        }
        return out
    }

    private static func object(_ bytes: UnsafeRawBufferPointer) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
    }

    /// A whole number (no fraction), nil for anything else.
    private static func integer(_ value: Any?) -> Int? {
        guard let n = value as? NSNumber else { return nil }
        return integer(n.doubleValue)
    }

    private static func integer(_ d: Double) -> Int? {
        guard d.isFinite, d == d.rounded(), abs(d) < 1e15 else { return nil }
        return Int(d)
    }
}
