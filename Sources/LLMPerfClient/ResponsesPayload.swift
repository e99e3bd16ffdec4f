import Foundation
import LLMPerfCore

/// The facts llmperf needs from one event of an OpenAI Responses API stream (OpenAI's
/// "Streaming events" reference for `POST /v1/responses`). Every event is an object whose
/// `type` names it; no `[DONE]` follows the last one, which is `response.completed`,
/// `response.incomplete` or `response.failed`.
///
/// What each event yields:
/// - `response.output_text.delta` (`delta`): answer text; `response.function_call_arguments.delta`:
///   a tool call's arguments, also answer; `response.output_item.added` with a `function_call`
///   item: the call's opening (its `name`), the first answer output;
/// - `response.reasoning_text.delta` (raw reasoning, as open-weight servers stream it) and
///   `response.reasoning_summary_text.delta` (a summary of hidden reasoning): reasoning;
/// - `response.completed` / `response.incomplete`: the end, with `response.usage`
///   (`input_tokens`, `output_tokens`, `input_tokens_details.cached_tokens`,
///   `output_tokens_details.reasoning_tokens`);
/// - `response.failed` (`response.error`) and `error` (`code`, `message`): the request failed.
///
/// Every other event (`response.created`, `…done`, `…part.added`, …) carries no new output.
struct ResponsesPayload {
    enum Kind {
        case answerDelta, reasoningDelta, outputItemAdded, completed, incomplete, failed, error, other
    }

    var kind: Kind = .other
    /// A `function_call` item (an `output_item.added` event opens a tool call).
    var functionCallItem = false
    var usage: TokenUsage?
    /// The error's `code` and the error object (or event) as text.
    var errorCode: String?
    var errorDetail: String?

    /// Reads one stream event's `data`, appending its new output text (a delta, or a function
    /// call's name) to `content`. Nil when it is not a JSON object.
    static func scan(_ bytes: UnsafeRawBufferPointer, content: inout [UInt8]) -> ResponsesPayload? {
        let mark = content.count
        var cursor = JSONCursor(bytes)
        var out: ResponsesPayload
        if let fast = fastScan(&cursor, content: &content), cursor.atEnd {
            out = fast
        } else {
            content.removeSubrange(mark...)
            guard let slow = slowScan(bytes, content: &content) else { return nil }
            out = slow
        }
        // Text counts only where the event type says it is new output: `delta` and `name`
        // appear in other events too (an audio delta, a finished item's name).
        let carriesText =
            out.kind == .answerDelta || out.kind == .reasoningDelta
            || (out.kind == .outputItemAdded && out.functionCallItem)
        if !carriesText { content.removeSubrange(mark...) }
        if out.kind == .error && out.errorDetail == nil {
            out.errorDetail = String(decoding: bytes.prefix(1024), as: UTF8.self)
        }
        return out
    }

    /// The HTTP status an error `code` stands for: the Responses API names errors rather than
    /// numbering them in a stream.
    static func status(forCode code: String?) -> Int {
        guard let code else { return 500 }
        if code == "rate_limit_exceeded" || code == "insufficient_quota" { return 429 }
        if code.hasPrefix("invalid_") || code == "context_length_exceeded" { return 400 }
        if code == "server_is_overloaded" || code == "slow_down" { return 503 }
        return 500
    }

    static func kind(of type: String) -> Kind {
        switch type {
        case "response.output_text.delta", "response.function_call_arguments.delta", "response.refusal.delta":
            return .answerDelta
        case "response.reasoning_text.delta", "response.reasoning_summary_text.delta": return .reasoningDelta
        case "response.output_item.added": return .outputItemAdded
        case "response.completed": return .completed
        case "response.incomplete": return .incomplete
        case "response.failed": return .failed
        case "error": return .error
        default: return .other
        }
    }

    // MARK: fast path

    /// `kind(of:)` on the raw bytes, without making a string (one event per token).
    private static func kind(_ c: JSONCursor, _ value: (start: Int, end: Int, escaped: Bool)) -> Kind {
        if c.rawEquals(value, "response.output_text.delta") { return .answerDelta }
        if c.rawEquals(value, "response.reasoning_text.delta") { return .reasoningDelta }
        if c.rawEquals(value, "response.function_call_arguments.delta") { return .answerDelta }
        if c.rawEquals(value, "response.reasoning_summary_text.delta") { return .reasoningDelta }
        if c.rawEquals(value, "response.refusal.delta") { return .answerDelta }
        if c.rawEquals(value, "response.output_item.added") { return .outputItemAdded }
        if c.rawEquals(value, "response.completed") { return .completed }
        if c.rawEquals(value, "response.incomplete") { return .incomplete }
        if c.rawEquals(value, "response.failed") { return .failed }
        if c.rawEquals(value, "error") { return .error }
        return .other
    }

    private static func fastScan(_ c: inout JSONCursor, content: inout [UInt8]) -> ResponsesPayload? {
        var out = ResponsesPayload()
        guard c.consume(0x7B) else { return nil }
        if c.consume(0x7D) { return out }
        repeat {
            guard let key = c.rawString(), c.consume(0x3A), !key.escaped else { return nil }
            if c.rawEquals(key, "type") {
                guard let value = c.rawString(), !value.escaped else { return nil }
                out.kind = kind(c, value)
            } else if c.rawEquals(key, "delta") {
                if c.consumeNull() { continue }
                guard c.peek() == 0x22, c.appendString(to: &content) else { return nil }
            } else if c.rawEquals(key, "item") {
                guard item(&c, into: &out, content: &content) else { return nil }
            } else if c.rawEquals(key, "response") {
                guard response(&c, into: &out) else { return nil }
            } else if c.rawEquals(key, "code") {
                if c.consumeNull() { continue }
                var value: [UInt8] = []
                guard c.peek() == 0x22, c.appendString(to: &value) else { return nil }
                out.errorCode = String(decoding: value, as: UTF8.self)
            } else {
                guard c.skipValue() else { return nil }
            }
        } while c.consume(0x2C)
        guard c.consume(0x7D) else { return nil }
        return out
    }

    /// An output item: a `function_call` item's `name` goes to `content`.
    private static func item(_ c: inout JSONCursor, into out: inout ResponsesPayload, content: inout [UInt8]) -> Bool {
        if c.consumeNull() { return true }
        guard c.consume(0x7B) else { return false }
        if c.consume(0x7D) { return true }
        var name: [UInt8] = []
        repeat {
            guard let key = c.rawString(), c.consume(0x3A), !key.escaped else { return false }
            if c.rawEquals(key, "type") {
                guard let value = c.rawString() else { return false }
                out.functionCallItem = c.rawEquals(value, "function_call")
            } else if c.rawEquals(key, "name") {
                if c.consumeNull() { continue }
                guard c.peek() == 0x22, c.appendString(to: &name) else { return false }
            } else {
                guard c.skipValue() else { return false }
            }
        } while c.consume(0x2C)
        if out.functionCallItem { content.append(contentsOf: name) }
        return c.consume(0x7D)
    }

    /// The response object of the final events: its usage and error (its `output` repeats what
    /// was streamed and is skipped).
    private static func response(_ c: inout JSONCursor, into out: inout ResponsesPayload) -> Bool {
        if c.consumeNull() { return true }
        guard c.consume(0x7B) else { return false }
        if c.consume(0x7D) { return true }
        repeat {
            guard let key = c.rawString(), c.consume(0x3A), !key.escaped else { return false }
            if c.rawEquals(key, "usage") {
                if c.consumeNull() { continue }
                guard let usage = usage(&c) else { return false }
                out.usage = usage
            } else if c.rawEquals(key, "error") {
                if c.consumeNull() { continue }
                let start = c.pos
                guard c.skipValue() else { return false }
                let raw = UnsafeRawBufferPointer(start: c.base + start, count: c.pos - start)
                out.errorDetail = String(decoding: raw.prefix(1024), as: UTF8.self)
                out.errorCode = errorCode(raw)
            } else {
                guard c.skipValue() else { return false }
            }
        } while c.consume(0x2C)
        return c.consume(0x7D)
    }

    private static func usage(_ c: inout JSONCursor) -> TokenUsage? {
        guard c.consume(0x7B) else { return nil }
        var u = TokenUsage()
        if c.consume(0x7D) { return u }
        repeat {
            guard let key = c.rawString(), c.consume(0x3A), !key.escaped else { return nil }
            if c.consumeNull() { continue }
            if c.rawEquals(key, "input_tokens") {
                guard let v = c.integer() else { return nil }
                u.promptTokens = v
            } else if c.rawEquals(key, "output_tokens") {
                guard let v = c.integer() else { return nil }
                u.completionTokens = v
            } else if c.rawEquals(key, "input_tokens_details") || c.rawEquals(key, "output_tokens_details") {
                let isInput = c.rawEquals(key, "input_tokens_details")
                guard c.consume(0x7B) else { return nil }
                if c.consume(0x7D) { continue }
                repeat {
                    guard let inner = c.rawString(), c.consume(0x3A), !inner.escaped else { return nil }
                    if c.consumeNull() { continue }
                    if isInput && c.rawEquals(inner, "cached_tokens") {
                        guard let v = c.integer() else { return nil }
                        u.cachedTokens = v
                    } else if !isInput && c.rawEquals(inner, "reasoning_tokens") {
                        guard let v = c.integer() else { return nil }
                        u.reasoningTokens = v
                    } else {
                        guard c.skipValue() else { return nil }
                    }
                } while c.consume(0x2C)
                guard c.consume(0x7D) else { return nil }
            } else {
                guard c.skipValue() else { return nil }
            }
        } while c.consume(0x2C)
        return c.consume(0x7D) ? u : nil
    }

    private static func errorCode(_ raw: UnsafeRawBufferPointer) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(raw)) as? [String: Any] else { return nil }
        return object["code"] as? String
    }

    // MARK: slow path

    private static func slowScan(_ bytes: UnsafeRawBufferPointer, content: inout [UInt8]) -> ResponsesPayload? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]),
            let root = object as? [String: Any]
        else { return nil }
        var out = ResponsesPayload()
        out.kind = kind(of: root["type"] as? String ?? "")
        if let delta = root["delta"] as? String { content.append(contentsOf: delta.utf8) }
        if let item = root["item"] as? [String: Any], item["type"] as? String == "function_call" {
            out.functionCallItem = true
            if let name = item["name"] as? String { content.append(contentsOf: name.utf8) }
        }
        if let code = root["code"] as? String { out.errorCode = code }
        if let response = root["response"] as? [String: Any] {
            if let usage = response["usage"] as? [String: Any] { out.usage = Self.usage(usage) }
            if let error = response["error"] as? [String: Any] {
                out.errorCode = error["code"] as? String
                let data = (try? JSONSerialization.data(withJSONObject: error)) ?? Data()
                out.errorDetail = String(decoding: data.prefix(1024), as: UTF8.self)
            }
        }
        return out
    }

    /// A Responses `usage` object, read from `JSONSerialization`'s output (streamed final events
    /// and whole bodies alike).
    static func usage(_ usage: [String: Any]) -> TokenUsage {
        var u = TokenUsage()
        u.promptTokens = integer(usage["input_tokens"])
        u.completionTokens = integer(usage["output_tokens"])
        u.cachedTokens = integer((usage["input_tokens_details"] as? [String: Any])?["cached_tokens"])
        u.reasoningTokens = integer((usage["output_tokens_details"] as? [String: Any])?["reasoning_tokens"])
        return u
    }

    static func integer(_ value: Any?) -> Int? {
        guard let n = value as? NSNumber else { return nil }
        let d = n.doubleValue
        guard d.isFinite, d == d.rounded(), abs(d) < 1e15 else { return nil }
        return Int(d)
    }
}
