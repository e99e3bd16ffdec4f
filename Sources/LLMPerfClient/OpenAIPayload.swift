import Foundation
import LLMPerfCore

/// The facts llmperf needs from one OpenAI JSON payload (a stream chunk or a whole body):
/// the generated text of the choices (delta/message `content`, `reasoning_content`,
/// `reasoning`, completions `text`, and a tool call's function `name` and `arguments`),
/// whether that text was answer or reasoning, `finish_reason`, `usage` and an `error` object.
///
/// Reasoning fields: vLLM and DeepSeek stream `delta.reasoning_content`, OpenRouter and newer
/// vLLM `delta.reasoning`; tool calls stream as `delta.tool_calls[i].function.{name,arguments}`
/// (OpenAI's chat completions streaming reference); reasoning counts arrive in
/// `usage.completion_tokens_details.reasoning_tokens`.
struct OpenAIPayload {
    var hasChoices = false
    /// Answer text (`content`, `text`) or a tool call arrived.
    var hasAnswer = false
    /// Reasoning text arrived.
    var hasReasoning = false
    var finished = false
    var usage: TokenUsage?
    var errorDetail: String?
    var errorCode: Int?
    /// A `timings` object beside `choices` (llama.cpp's server and `llmperf serve` put the request's server-side
    /// timings in the last chunk): `ServerTimingsReader.llamaCpp` reads it then, once per request.
    var hasTimings = false

    /// Reads `bytes`, appending the decoded content to `content`. The byte-level fast path
    /// decides nearly every payload; anything it rejects is parsed again with
    /// `JSONSerialization`. Nil when the payload is not a JSON object.
    static func scan(_ bytes: UnsafeRawBufferPointer, content: inout [UInt8]) -> OpenAIPayload? {
        let mark = content.count
        var cursor = JSONCursor(bytes)
        if let fast = fastScan(&cursor, content: &content), cursor.atEnd { return fast }
        content.removeSubrange(mark...)
        return slowScan(bytes, content: &content)
    }

    // MARK: fast path

    private static func fastScan(_ c: inout JSONCursor, content: inout [UInt8]) -> OpenAIPayload? {
        var out = OpenAIPayload()
        guard c.consume(0x7B) else { return nil }
        if c.consume(0x7D) { return out }
        repeat {
            guard let key = c.rawString(), c.consume(0x3A) else { return nil }
            if c.rawEquals(key, "choices") {
                if c.consumeNull() { continue }
                guard c.consume(0x5B) else { return nil }
                out.hasChoices = true
                if c.consume(0x5D) { continue }
                repeat {
                    guard choice(&c, into: &out, content: &content) else { return nil }
                } while c.consume(0x2C)
                guard c.consume(0x5D) else { return nil }
            } else if c.rawEquals(key, "usage") {
                if c.consumeNull() { continue }
                guard let u = usage(&c) else { return nil }
                out.usage = u
            } else if c.rawEquals(key, "error") {
                if c.consumeNull() { continue }
                guard c.peek() != nil else { return nil }
                let start = c.pos
                guard c.skipValue() else { return nil }
                let raw = UnsafeRawBufferPointer(start: c.base + start, count: c.pos - start)
                out.errorDetail = String(decoding: raw.prefix(1024), as: UTF8.self)
                var sub = JSONCursor(raw)
                out.errorCode = errorCode(&sub)
            } else if c.rawEquals(key, "timings") {
                guard c.skipValue() else { return nil }
                out.hasTimings = true
            } else if key.escaped {
                return nil  // an escaped key might spell one of ours: let the slow path decide
            } else {
                guard c.skipValue() else { return nil }
            }
        } while c.consume(0x2C)
        guard c.consume(0x7D) else { return nil }
        return out
    }

    private static func choice(_ c: inout JSONCursor, into out: inout OpenAIPayload, content: inout [UInt8]) -> Bool {
        guard c.consume(0x7B) else { return false }
        if c.consume(0x7D) { return true }
        repeat {
            guard let key = c.rawString(), c.consume(0x3A) else { return false }
            if c.rawEquals(key, "delta") || c.rawEquals(key, "message") {
                if c.consumeNull() { continue }
                guard message(&c, into: &out, content: &content) else { return false }
            } else if c.rawEquals(key, "text") {
                if c.consumeNull() { continue }
                let before = content.count
                guard c.peek() == 0x22, c.appendString(to: &content) else { return false }
                if content.count > before { out.hasAnswer = true }
            } else if c.rawEquals(key, "finish_reason") {
                if c.consumeNull() { continue }
                guard c.skipValue() else { return false }
                out.finished = true
            } else if key.escaped {
                return false
            } else {
                guard c.skipValue() else { return false }
            }
        } while c.consume(0x2C)
        return c.consume(0x7D)
    }

    private static func message(
        _ c: inout JSONCursor, into out: inout OpenAIPayload, content: inout [UInt8]
    ) -> Bool {
        guard c.consume(0x7B) else { return false }
        if c.consume(0x7D) { return true }
        repeat {
            guard let key = c.rawString(), c.consume(0x3A) else { return false }
            let isContent = c.rawEquals(key, "content")
            if isContent || c.rawEquals(key, "reasoning_content") || c.rawEquals(key, "reasoning") {
                if c.consumeNull() { continue }
                // Content given as an array of parts is left to the slow path.
                let before = content.count
                guard c.peek() == 0x22, c.appendString(to: &content) else { return false }
                if content.count > before {
                    if isContent { out.hasAnswer = true } else { out.hasReasoning = true }
                }
            } else if c.rawEquals(key, "tool_calls") {
                if c.consumeNull() { continue }
                guard toolCalls(&c, into: &out, content: &content) else { return false }
            } else if key.escaped {
                return false
            } else {
                guard c.skipValue() else { return false }
            }
        } while c.consume(0x2C)
        return c.consume(0x7D)
    }

    /// `[{"index":0,"id":…,"type":"function","function":{"name":…,"arguments":…}}, …]`: each
    /// call's name and argument text go to `content`; any call at all is answer output.
    private static func toolCalls(
        _ c: inout JSONCursor, into out: inout OpenAIPayload, content: inout [UInt8]
    ) -> Bool {
        guard c.consume(0x5B) else { return false }
        if c.consume(0x5D) { return true }
        repeat {
            guard c.consume(0x7B) else { return false }
            out.hasAnswer = true
            if c.consume(0x7D) { continue }
            repeat {
                guard let key = c.rawString(), c.consume(0x3A) else { return false }
                if c.rawEquals(key, "function") {
                    if c.consumeNull() { continue }
                    guard c.consume(0x7B) else { return false }
                    if c.consume(0x7D) { continue }
                    repeat {
                        guard let field = c.rawString(), c.consume(0x3A) else { return false }
                        if c.rawEquals(field, "name") || c.rawEquals(field, "arguments") {
                            if c.consumeNull() { continue }
                            guard c.peek() == 0x22, c.appendString(to: &content) else { return false }
                        } else if field.escaped {
                            return false
                        } else {
                            guard c.skipValue() else { return false }
                        }
                    } while c.consume(0x2C)
                    guard c.consume(0x7D) else { return false }
                } else if key.escaped {
                    return false
                } else {
                    guard c.skipValue() else { return false }
                }
            } while c.consume(0x2C)
            guard c.consume(0x7D) else { return false }
        } while c.consume(0x2C)
        return c.consume(0x5D)
    }

    private static func usage(_ c: inout JSONCursor) -> TokenUsage? {
        var u = TokenUsage()
        guard c.consume(0x7B) else { return nil }
        if c.consume(0x7D) { return u }
        repeat {
            guard let key = c.rawString(), c.consume(0x3A) else { return nil }
            if c.consumeNull() { continue }
            if c.rawEquals(key, "prompt_tokens") {
                guard let v = c.integer() else { return nil }
                u.promptTokens = v
            } else if c.rawEquals(key, "completion_tokens") {
                guard let v = c.integer() else { return nil }
                u.completionTokens = v
            } else if c.rawEquals(key, "prompt_tokens_details") || c.rawEquals(key, "completion_tokens_details") {
                let cached = c.rawEquals(key, "prompt_tokens_details")
                let wanted: StaticString = cached ? "cached_tokens" : "reasoning_tokens"
                guard c.consume(0x7B) else { return nil }
                if c.consume(0x7D) { continue }
                repeat {
                    guard let k2 = c.rawString(), c.consume(0x3A) else { return nil }
                    if c.rawEquals(k2, wanted), !c.consumeNull() {
                        guard let v = c.integer() else { return nil }
                        if cached { u.cachedTokens = v } else { u.reasoningTokens = v }
                    } else if k2.escaped {
                        return nil
                    } else {
                        guard c.skipValue() else { return nil }
                    }
                } while c.consume(0x2C)
                guard c.consume(0x7D) else { return nil }
            } else if key.escaped {
                return nil
            } else {
                guard c.skipValue() else { return nil }
            }
        } while c.consume(0x2C)
        guard c.consume(0x7D) else { return nil }
        return u
    }

    private static func errorCode(_ c: inout JSONCursor) -> Int? {
        guard c.consume(0x7B), !c.consume(0x7D) else { return nil }
        var code: Int?
        repeat {
            guard let key = c.rawString(), c.consume(0x3A) else { return code }
            if c.rawEquals(key, "code") || c.rawEquals(key, "status") {
                let save = c.pos
                if let v = c.integer() {
                    code = v
                } else {
                    c.pos = save
                    guard c.skipValue() else { return code }
                }
            } else {
                guard c.skipValue() else { return code }
            }
        } while c.consume(0x2C)
        return code
    }

    // MARK: slow path

    private static func slowScan(_ bytes: UnsafeRawBufferPointer, content: inout [UInt8]) -> OpenAIPayload? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]),
            let root = object as? [String: Any]
        else { return nil }
        var out = OpenAIPayload()
        if let choices = root["choices"] as? [Any] {
            out.hasChoices = true
            for case let choice as [String: Any] in choices {
                for key in ["delta", "message"] {
                    guard let message = choice[key] as? [String: Any] else { continue }
                    for field in ["content", "reasoning_content", "reasoning"] {
                        let before = content.count
                        appendText(message[field], to: &content)
                        if content.count > before {
                            if field == "content" { out.hasAnswer = true } else { out.hasReasoning = true }
                        }
                    }
                    for case let call as [String: Any] in message["tool_calls"] as? [Any] ?? [] {
                        out.hasAnswer = true
                        let function = call["function"] as? [String: Any]
                        appendText(function?["name"], to: &content)
                        appendText(function?["arguments"], to: &content)
                    }
                }
                let before = content.count
                appendText(choice["text"], to: &content)
                if content.count > before { out.hasAnswer = true }
                if let reason = choice["finish_reason"], !(reason is NSNull) { out.finished = true }
            }
        }
        if let usage = root["usage"] as? [String: Any] {
            var u = TokenUsage()
            u.promptTokens = integer(usage["prompt_tokens"])
            u.completionTokens = integer(usage["completion_tokens"])
            u.cachedTokens = integer((usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"])
            u.reasoningTokens = integer((usage["completion_tokens_details"] as? [String: Any])?["reasoning_tokens"])
            out.usage = u
        }
        if root["timings"] is [String: Any] { out.hasTimings = true }
        if let error = root["error"], !(error is NSNull) {
            let data = (try? JSONSerialization.data(withJSONObject: error, options: [.fragmentsAllowed])) ?? Data()
            out.errorDetail = String(decoding: data.prefix(1024), as: UTF8.self)
            if let object = error as? [String: Any] {
                out.errorCode = integer(object["code"]) ?? integer(object["status"])
            }
        }
        return out
    }

    private static func appendText(_ value: Any?, to content: inout [UInt8]) {
        if let s = value as? String {
            content.append(contentsOf: s.utf8)
        } else if let parts = value as? [Any] {
            for case let part as [String: Any] in parts {
                if let s = part["text"] as? String { content.append(contentsOf: s.utf8) }
            }
        }
    }

    private static func integer(_ value: Any?) -> Int? {
        if let n = value as? NSNumber {
            let d = n.doubleValue
            guard d.isFinite, d == d.rounded(), abs(d) < 1e15 else { return nil }
            return Int(d)
        }
        return nil
    }
}
