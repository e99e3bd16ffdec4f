import Foundation
import LLMPerfCore

/// The facts llmperf needs from one object of Ollama's native API: a line of an NDJSON stream or
/// a whole non-streamed body, from `/api/chat` or `/api/generate` (Ollama's API reference,
/// github.com/ollama/ollama docs/api.md: "Generate a chat completion", "Generate a completion").
///
/// Text is classified by the key it arrives under: `message.content` and `response` are answer,
/// `message.thinking` and `thinking` are reasoning, a non-empty `message.tool_calls` is a tool
/// call (answer; each call's function name is kept as its text). The last object has `done:
/// true`, `done_reason`, the counts `prompt_eval_count` and `eval_count`, and the durations in
/// nanoseconds (`total_duration`, `load_duration`, `prompt_eval_duration`, `eval_duration`),
/// kept as the trace's `serverTimings`.
/// `{"error": "…"}` is an error, in a stream or as a whole body.
struct OllamaPayload {
    var hasAnswer = false
    var hasReasoning = false
    var hasToolCall = false
    var done = false
    var doneReason: String?
    var promptEvalCount: Int?
    var evalCount: Int?
    /// The object carries durations (the last one): `ServerTimingsReader.ollama` reads them then. They are not
    /// read here: a bigger payload slowed every line's scan by a fifth (`make bench`, ndjson-ollama).
    var hasDurations = false
    /// `error`, as text (a string's value, anything else as its JSON).
    var error: String?

    /// Reads `bytes`, appending streamed text to `content`. The byte-level path decides nearly
    /// every object; one it rejects (an escaped key, an odd shape) is read again with
    /// `JSONSerialization`. Nil when the bytes are not a JSON object.
    static func scan(_ bytes: UnsafeRawBufferPointer, content: inout [UInt8]) -> OllamaPayload? {
        let mark = content.count
        var cursor = JSONCursor(bytes)
        if let fast = fastScan(&cursor, content: &content), cursor.atEnd { return fast }
        content.removeSubrange(mark...)
        return slowScan(bytes, content: &content)
    }

    // MARK: fast path

    private static func fastScan(_ c: inout JSONCursor, content: inout [UInt8]) -> OllamaPayload? {
        var out = OllamaPayload()
        guard c.consume(0x7B) else { return nil }
        if c.consume(0x7D) { return out }
        repeat {
            guard let key = c.rawString(), c.consume(0x3A), !key.escaped else { return nil }
            if c.rawEquals(key, "response") || c.rawEquals(key, "thinking") {
                guard text(&c, reasoning: c.rawEquals(key, "thinking"), into: &out, content: &content) else {
                    return nil
                }
            } else if c.rawEquals(key, "message") {
                if c.consumeNull() { continue }
                guard message(&c, into: &out, content: &content) else { return nil }
            } else if c.rawEquals(key, "done") {
                let isTrue = c.peek() == 0x74
                guard c.skipValue() else { return nil }
                out.done = isTrue
            } else if c.rawEquals(key, "done_reason") {
                if c.consumeNull() { continue }
                var value: [UInt8] = []
                guard c.peek() == 0x22, c.appendString(to: &value) else { return nil }
                out.doneReason = String(decoding: value, as: UTF8.self)
            } else if c.rawEquals(key, "prompt_eval_count") || c.rawEquals(key, "eval_count") {
                let isPrompt = c.rawEquals(key, "prompt_eval_count")
                if c.consumeNull() { continue }
                guard let v = c.integer() else { return nil }
                if isPrompt { out.promptEvalCount = v } else { out.evalCount = v }
            } else if key.end - key.start >= 13, DurationField(key: key, cursor: c) != nil {
                // (the length test first: the keys of every line, model and created_at, are shorter)
                guard c.skipValue() else { return nil }
                out.hasDurations = true
            } else if c.rawEquals(key, "error") {
                if c.consumeNull() { continue }
                if c.peek() == 0x22 {
                    var value: [UInt8] = []
                    guard c.appendString(to: &value) else { return nil }
                    out.error = String(decoding: value.prefix(1024), as: UTF8.self)
                } else {
                    let start = c.pos
                    guard c.skipValue() else { return nil }
                    out.error = String(
                        decoding: UnsafeRawBufferPointer(start: c.base + start, count: c.pos - start).prefix(1024),
                        as: UTF8.self)
                }
            } else {
                guard c.skipValue() else { return nil }
            }
        } while c.consume(0x2C)
        guard c.consume(0x7D) else { return nil }
        return out
    }

    /// A string of answer or reasoning text (null is none).
    private static func text(
        _ c: inout JSONCursor, reasoning: Bool, into out: inout OllamaPayload, content: inout [UInt8]
    ) -> Bool {
        if c.consumeNull() { return true }
        let before = content.count
        guard c.peek() == 0x22, c.appendString(to: &content) else { return false }
        if content.count > before {
            if reasoning { out.hasReasoning = true } else { out.hasAnswer = true }
        }
        return true
    }

    /// `message: {role, content, thinking, tool_calls, images}`.
    private static func message(_ c: inout JSONCursor, into out: inout OllamaPayload, content: inout [UInt8]) -> Bool {
        guard c.consume(0x7B) else { return false }
        if c.consume(0x7D) { return true }
        repeat {
            guard let key = c.rawString(), c.consume(0x3A), !key.escaped else { return false }
            if c.rawEquals(key, "content") || c.rawEquals(key, "thinking") {
                guard text(&c, reasoning: c.rawEquals(key, "thinking"), into: &out, content: &content) else {
                    return false
                }
            } else if c.rawEquals(key, "tool_calls") {
                if c.consumeNull() { continue }
                guard c.consume(0x5B) else { return false }
                if c.consume(0x5D) { continue }
                repeat {
                    guard toolCall(&c, content: &content) else { return false }
                    out.hasToolCall = true
                    out.hasAnswer = true
                } while c.consume(0x2C)
                guard c.consume(0x5D) else { return false }
            } else {
                guard c.skipValue() else { return false }
            }
        } while c.consume(0x2C)
        return c.consume(0x7D)
    }

    /// `{function: {name, arguments}}`: the name is the call's text.
    private static func toolCall(_ c: inout JSONCursor, content: inout [UInt8]) -> Bool {
        guard c.consume(0x7B) else { return false }
        if c.consume(0x7D) { return true }
        repeat {
            guard let key = c.rawString(), c.consume(0x3A), !key.escaped else { return false }
            if c.rawEquals(key, "function"), c.peek() == 0x7B {
                _ = c.consume(0x7B)
                if c.consume(0x7D) { continue }
                repeat {
                    guard let inner = c.rawString(), c.consume(0x3A), !inner.escaped else { return false }
                    if c.rawEquals(inner, "name"), c.peek() == 0x22 {
                        guard c.appendString(to: &content) else { return false }
                    } else {
                        guard c.skipValue() else { return false }
                    }
                } while c.consume(0x2C)
                guard c.consume(0x7D) else { return false }
            } else {
                guard c.skipValue() else { return false }
            }
        } while c.consume(0x2C)
        return c.consume(0x7D)
    }

    // MARK: slow path

    private static func slowScan(_ bytes: UnsafeRawBufferPointer, content: inout [UInt8]) -> OllamaPayload? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]),
            let root = object as? [String: Any]
        else { return nil }
        var out = OllamaPayload()
        func add(_ value: Any?, reasoning: Bool) {
            guard let text = value as? String, !text.isEmpty else { return }
            content.append(contentsOf: text.utf8)
            if reasoning { out.hasReasoning = true } else { out.hasAnswer = true }
        }
        add(root["thinking"], reasoning: true)
        add(root["response"], reasoning: false)
        if let message = root["message"] as? [String: Any] {
            add(message["thinking"], reasoning: true)
            add(message["content"], reasoning: false)
            for call in message["tool_calls"] as? [Any] ?? [] {
                let name = ((call as? [String: Any])?["function"] as? [String: Any])?["name"] as? String
                content.append(contentsOf: (name ?? "").utf8)
                out.hasToolCall = true
                out.hasAnswer = true
            }
        }
        out.done = root["done"] as? Bool ?? false
        out.doneReason = root["done_reason"] as? String
        out.promptEvalCount = integer(root["prompt_eval_count"])
        out.evalCount = integer(root["eval_count"])
        out.hasDurations = DurationField.allCases.contains { root[$0.rawValue] != nil }
        if let error = root["error"], !(error is NSNull) {
            if let text = error as? String {
                out.error = String(text.prefix(1024))
            } else {
                let data = (try? JSONSerialization.data(withJSONObject: error, options: [.fragmentsAllowed])) ?? Data()
                out.error = String(decoding: data.prefix(1024), as: UTF8.self)
            }
        }
        return out
    }

    /// Ollama's four durations, by key.
    enum DurationField: String, CaseIterable {
        case total = "total_duration"
        case load = "load_duration"
        case prompt = "prompt_eval_duration"
        case eval = "eval_duration"

        init?(key: (start: Int, end: Int, escaped: Bool), cursor c: JSONCursor) {
            if c.rawEquals(key, "total_duration") {
                self = .total
            } else if c.rawEquals(key, "load_duration") {
                self = .load
            } else if c.rawEquals(key, "prompt_eval_duration") {
                self = .prompt
            } else if c.rawEquals(key, "eval_duration") {
                self = .eval
            } else {
                return nil
            }
        }

        func set(_ nanos: UInt64?, in timings: inout ServerTimings) {
            switch self {
            case .total: timings.totalNanos = nanos
            case .load: timings.loadNanos = nanos
            case .prompt: timings.promptNanos = nanos
            case .eval: timings.generationNanos = nanos
            }
        }
    }

    private static func integer(_ value: Any?) -> Int? {
        guard let n = value as? NSNumber else { return nil }
        let d = n.doubleValue
        guard d.isFinite, d == d.rounded(), abs(d) < 1e15 else { return nil }
        return Int(d)
    }
}
