import Foundation
import LLMPerfCore

/// The facts llmperf needs from one Anthropic Messages payload: a stream event's `data` or a
/// whole response body (Anthropic's Messages API and streaming reference,
/// platform.claude.com/docs/build-with-claude/streaming).
///
/// Text is classified by the key it arrives under, which says the same as the delta's `type`
/// and does not depend on key order: `text` (text_delta, text blocks) and `partial_json`
/// (input_json_delta) are answer, `name` (a tool_use block's start) is the opening of a tool
/// call, also answer, and `thinking` (thinking_delta, thinking blocks) is reasoning.
/// `signature` (signature_delta) and a tool's final `input` object carry no streamed text.
struct AnthropicPayload {
    enum Kind {
        case messageStart, contentBlockStart, contentBlockDelta, contentBlockStop, messageDelta, messageStop
        case ping, error, message, other
    }

    var kind: Kind = .other
    var hasAnswer = false
    var hasReasoning = false
    /// A `stop_reason` arrived (message_delta, or a whole message).
    var finished = false
    var inputTokens: Int?
    var outputTokens: Int?
    var cacheReadTokens: Int?
    /// `usage.cache_creation_input_tokens`: prompt tokens written to the cache by this request.
    var cacheCreationTokens: Int?
    /// `error.type` (`overloaded_error`, …) and the error object as text, when there is one.
    var errorType: String?
    var errorDetail: String?

    /// Reads `bytes`, appending streamed text to `content`. The byte-level path decides nearly
    /// every payload; one it rejects (an escaped key, an odd shape) is read again with
    /// `JSONSerialization`. Nil when the payload is not a JSON object.
    static func scan(_ bytes: UnsafeRawBufferPointer, content: inout [UInt8]) -> AnthropicPayload? {
        let mark = content.count
        var cursor = JSONCursor(bytes)
        if let fast = fastScan(&cursor, content: &content), cursor.atEnd { return fast }
        content.removeSubrange(mark...)
        return slowScan(bytes, content: &content)
    }

    /// Anthropic's documented HTTP status for an error type; 500 for one it does not list.
    static func status(forErrorType type: String?) -> Int {
        switch type {
        case "invalid_request_error": return 400
        case "authentication_error": return 401
        case "permission_error": return 403
        case "not_found_error": return 404
        case "request_too_large": return 413
        case "rate_limit_error": return 429
        case "api_error": return 500
        case "overloaded_error": return 529
        default: return 500
        }
    }

    // MARK: fast path

    private static func fastScan(_ c: inout JSONCursor, content: inout [UInt8]) -> AnthropicPayload? {
        var out = AnthropicPayload()
        guard c.consume(0x7B) else { return nil }
        if c.consume(0x7D) { return out }
        repeat {
            guard let key = c.rawString(), c.consume(0x3A) else { return nil }
            if key.escaped { return nil }
            if c.rawEquals(key, "type") {
                guard let value = c.rawString(), !value.escaped else { return nil }
                out.kind = kind(c, value)
            } else if c.rawEquals(key, "delta") || c.rawEquals(key, "content_block") {
                if c.consumeNull() { continue }
                guard block(&c, into: &out, content: &content) else { return nil }
            } else if c.rawEquals(key, "content") {
                if c.consumeNull() { continue }
                guard c.consume(0x5B) else { return nil }
                if c.consume(0x5D) { continue }
                repeat {
                    guard block(&c, into: &out, content: &content) else { return nil }
                } while c.consume(0x2C)
                guard c.consume(0x5D) else { return nil }
            } else if c.rawEquals(key, "usage") {
                if c.consumeNull() { continue }
                guard usage(&c, into: &out) else { return nil }
            } else if c.rawEquals(key, "message") {
                // message_start: only its usage matters.
                guard c.consume(0x7B) else { return nil }
                if c.consume(0x7D) { continue }
                repeat {
                    guard let inner = c.rawString(), c.consume(0x3A), !inner.escaped else { return nil }
                    if c.rawEquals(inner, "usage") {
                        if c.consumeNull() { continue }
                        guard usage(&c, into: &out) else { return nil }
                    } else {
                        guard c.skipValue() else { return nil }
                    }
                } while c.consume(0x2C)
                guard c.consume(0x7D) else { return nil }
            } else if c.rawEquals(key, "stop_reason") {
                if c.consumeNull() { continue }
                guard c.skipValue() else { return nil }
                out.finished = true
            } else if c.rawEquals(key, "error") {
                if c.consumeNull() { continue }
                let start = c.pos
                guard c.skipValue() else { return nil }
                let raw = UnsafeRawBufferPointer(start: c.base + start, count: c.pos - start)
                out.errorDetail = String(decoding: raw.prefix(1024), as: UTF8.self)
                out.errorType = errorType(raw)
            } else {
                guard c.skipValue() else { return nil }
            }
        } while c.consume(0x2C)
        guard c.consume(0x7D) else { return nil }
        return out
    }

    private static func kind(_ c: JSONCursor, _ value: (start: Int, end: Int, escaped: Bool)) -> Kind {
        if c.rawEquals(value, "content_block_delta") { return .contentBlockDelta }
        if c.rawEquals(value, "message_delta") { return .messageDelta }
        if c.rawEquals(value, "content_block_start") { return .contentBlockStart }
        if c.rawEquals(value, "content_block_stop") { return .contentBlockStop }
        if c.rawEquals(value, "message_start") { return .messageStart }
        if c.rawEquals(value, "message_stop") { return .messageStop }
        if c.rawEquals(value, "ping") { return .ping }
        if c.rawEquals(value, "error") { return .error }
        if c.rawEquals(value, "message") { return .message }
        return .other
    }

    /// A delta or a content block: its text keys go to `content`, flagged by kind.
    private static func block(_ c: inout JSONCursor, into out: inout AnthropicPayload, content: inout [UInt8]) -> Bool {
        guard c.consume(0x7B) else { return false }
        if c.consume(0x7D) { return true }
        repeat {
            guard let key = c.rawString(), c.consume(0x3A), !key.escaped else { return false }
            let isThinking = c.rawEquals(key, "thinking")
            if isThinking || c.rawEquals(key, "text") || c.rawEquals(key, "partial_json") || c.rawEquals(key, "name") {
                if c.consumeNull() { continue }
                let before = content.count
                guard c.peek() == 0x22, c.appendString(to: &content) else { return false }
                if content.count > before {
                    if isThinking { out.hasReasoning = true } else { out.hasAnswer = true }
                }
            } else if c.rawEquals(key, "stop_reason") {
                if c.consumeNull() { continue }
                guard c.skipValue() else { return false }
                out.finished = true
            } else {
                guard c.skipValue() else { return false }
            }
        } while c.consume(0x2C)
        return c.consume(0x7D)
    }

    private static func usage(_ c: inout JSONCursor, into out: inout AnthropicPayload) -> Bool {
        guard c.consume(0x7B) else { return false }
        if c.consume(0x7D) { return true }
        repeat {
            guard let key = c.rawString(), c.consume(0x3A), !key.escaped else { return false }
            if c.consumeNull() { continue }
            if c.rawEquals(key, "input_tokens") {
                guard let v = c.integer() else { return false }
                out.inputTokens = v
            } else if c.rawEquals(key, "output_tokens") {
                guard let v = c.integer() else { return false }
                out.outputTokens = v
            } else if c.rawEquals(key, "cache_read_input_tokens") {
                guard let v = c.integer() else { return false }
                out.cacheReadTokens = v
            } else if c.rawEquals(key, "cache_creation_input_tokens") {
                guard let v = c.integer() else { return false }
                out.cacheCreationTokens = v
            } else {
                guard c.skipValue() else { return false }
            }
        } while c.consume(0x2C)
        return c.consume(0x7D)
    }

    /// `error.type` of an error object's bytes.
    private static func errorType(_ raw: UnsafeRawBufferPointer) -> String? {
        var c = JSONCursor(raw)
        guard c.consume(0x7B), !c.consume(0x7D) else { return nil }
        repeat {
            guard let key = c.rawString(), c.consume(0x3A) else { return nil }
            if c.rawEquals(key, "type") {
                var value: [UInt8] = []
                guard c.peek() == 0x22, c.appendString(to: &value) else { return nil }
                return String(decoding: value, as: UTF8.self)
            }
            guard c.skipValue() else { return nil }
        } while c.consume(0x2C)
        return nil
    }

    // MARK: slow path

    private static func slowScan(_ bytes: UnsafeRawBufferPointer, content: inout [UInt8]) -> AnthropicPayload? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]),
            let root = object as? [String: Any]
        else { return nil }
        var out = AnthropicPayload()
        let kinds: [String: Kind] = [
            "message_start": .messageStart, "content_block_start": .contentBlockStart,
            "content_block_delta": .contentBlockDelta, "content_block_stop": .contentBlockStop,
            "message_delta": .messageDelta, "message_stop": .messageStop, "ping": .ping, "error": .error,
            "message": .message,
        ]
        out.kind = (root["type"] as? String).flatMap { kinds[$0] } ?? .other
        var blocks: [[String: Any]] = []
        for key in ["delta", "content_block"] { if let block = root[key] as? [String: Any] { blocks.append(block) } }
        blocks += (root["content"] as? [Any] ?? []).compactMap { $0 as? [String: Any] }
        for block in blocks {
            for key in ["text", "partial_json", "name", "thinking"] {
                guard let text = block[key] as? String, !text.isEmpty else { continue }
                content.append(contentsOf: text.utf8)
                if key == "thinking" { out.hasReasoning = true } else { out.hasAnswer = true }
            }
            if let reason = block["stop_reason"], !(reason is NSNull) { out.finished = true }
        }
        if let reason = root["stop_reason"], !(reason is NSNull) { out.finished = true }
        let usage =
            (root["usage"] as? [String: Any]) ?? ((root["message"] as? [String: Any])?["usage"] as? [String: Any])
        if let usage {
            out.inputTokens = integer(usage["input_tokens"])
            out.outputTokens = integer(usage["output_tokens"])
            out.cacheReadTokens = integer(usage["cache_read_input_tokens"])
            out.cacheCreationTokens = integer(usage["cache_creation_input_tokens"])
        }
        if let error = root["error"], !(error is NSNull) {
            let data = (try? JSONSerialization.data(withJSONObject: error, options: [.fragmentsAllowed])) ?? Data()
            out.errorDetail = String(decoding: data.prefix(1024), as: UTF8.self)
            out.errorType = (error as? [String: Any])?["type"] as? String
        }
        return out
    }

    private static func integer(_ value: Any?) -> Int? {
        guard let n = value as? NSNumber else { return nil }
        let d = n.doubleValue
        guard d.isFinite, d == d.rounded(), abs(d) < 1e15 else { return nil }
        return Int(d)
    }
}

extension AnthropicPayload {
    /// The request's whole prompt: Anthropic's `input_tokens` counts only the tokens after the
    /// last cache breakpoint, and the tokens read from or written to the cache are reported beside
    /// it (`cache_read_input_tokens`, `cache_creation_input_tokens`); the prompt is their sum, so
    /// that `cachedTokens / promptTokens` is the share served from the cache, as with OpenAI's
    /// `cached_tokens` (a part of `prompt_tokens`). Per Anthropic's prompt-caching documentation.
    var promptTokens: Int? {
        guard let inputTokens else { return nil }
        return inputTokens + (cacheReadTokens ?? 0) + (cacheCreationTokens ?? 0)
    }
}
