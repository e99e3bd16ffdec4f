import LLMPerfCore

/// The facts llmperf needs from one llama.cpp `/completion` payload or one TGI
/// `/generate_stream` / `/generate` payload: a stream event's `data` or a whole body. Both are
/// read by one forward pass over the bytes (`JSONCursor`); keys are compared after unescaping,
/// so an escaped key reads the same as a plain one. Unknown keys are skipped.
///
/// llama.cpp (llama-server's README, tools/server/README.md, "POST /completion"): `content`
/// (text), `stop` (true on the last event), `tokens_predicted`, `tokens_evaluated`, `stop_type`
/// or the older `stopped_eos`/`stopped_limit`/`stopped_word`, `timings` (`prompt_n`,
/// `predicted_n`, `cache_n`, `prompt_ms`, `predicted_ms`, `draft_n`, `draft_n_accepted`, …) and
/// `error` (`{code, message, type}`).
///
/// TGI (text-generation-inference's OpenAPI, StreamResponse and GenerateResponse): `token`
/// (`{id, text, logprob, special}`), `generated_text` (null until the last event), `details`
/// (`finish_reason`, `generated_tokens`, `input_length`, `seed`) and the error event's `error`
/// and `error_type`.
struct NativePayload {
    /// llama.cpp: `content`; TGI: `token.text` (not for a special token) or a whole body's
    /// `generated_text`. Appended to the caller's buffer; true when the key was present.
    var hasContent = false
    /// TGI: a `token` object arrived (one generated token, special or not).
    var hasToken = false
    /// llama.cpp: `stop: true`. TGI: a non-null `generated_text` or `details`.
    var final = false
    /// A stop reason arrived (llama.cpp `stop_type` or a `stopped_*` flag; TGI `finish_reason`).
    var finished = false
    var outputTokens: Int?
    var inputTokens: Int?
    var cachedTokens: Int?
    /// llama.cpp `timings.predicted_n` / `prompt_n`, used when the top-level counts are absent.
    var timingsPredicted: Int?
    var timingsPrompt: Int?
    /// llama.cpp `timings.prompt_ms`, `predicted_ms`, `draft_n`, `draft_n_accepted`.
    /// llama.cpp: the payload has `timings` (the last event): `ServerTimingsReader.llamaCpp` reads its
    /// durations then, not here (a bigger payload slows every event's scan).
    var hasTimings = false
    /// An error arrived: its HTTP-like status (llama.cpp's `error.code`; TGI's by `error_type`)
    /// and its text.
    var errorStatus: Int?
    var errorDetail: String?
}

enum NativeAPI {
    case llamaCpp, tgi
}

extension NativePayload {
    /// Reads one payload, appending its text to `content`; nil when it is not a JSON object (or,
    /// for TGI's `/generate`, an array whose first item is one).
    static func scan(_ bytes: UnsafeRawBufferPointer, api: NativeAPI, content: inout [UInt8]) -> NativePayload? {
        let mark = content.count
        var c = JSONCursor(bytes)
        var out = NativePayload()
        // TGI's `/generate` may answer `[{generated_text, details}]`.
        let wrapped = api == .tgi && c.consume(0x5B)
        let ok = api == .llamaCpp ? llama(&c, into: &out, content: &content) : tgi(&c, into: &out, content: &content)
        guard ok, !wrapped || c.consume(0x5D), c.atEnd else {
            content.removeSubrange(mark...)
            return nil
        }
        return out
    }

    /// TGI's error types (its router's `ErrorType`s) and the statuses its HTTP errors carry for them:
    /// validation and tokenizer 422, generation 424, overloaded 429, incomplete_generation 500;
    /// 500 for a type it does not list.
    static func tgiStatus(forErrorType type: String?) -> Int {
        switch type {
        case "validation", "tokenizer": return 422
        case "generation": return 424
        case "overloaded": return 429
        case "incomplete_generation": return 500
        default: return 500
        }
    }

    // MARK: llama.cpp

    private static func llama(_ c: inout JSONCursor, into out: inout NativePayload, content: inout [UInt8]) -> Bool {
        guard c.consume(0x7B) else { return false }
        if c.consume(0x7D) { return true }
        repeat {
            guard let key = c.rawString(), c.consume(0x3A) else { return false }
            if c.consumeNull() { continue }
            if c.keyEquals(key, "content") {
                guard c.peek() == 0x22, c.appendString(to: &content) else { return false }
                out.hasContent = true
            } else if c.keyEquals(key, "stop") {
                guard let flag = c.bool() else { return false }
                if flag { out.final = true }
            } else if c.keyEquals(key, "tokens_predicted") {
                guard let v = c.integer() else { return false }
                out.outputTokens = v
            } else if c.keyEquals(key, "tokens_evaluated") {
                guard let v = c.integer() else { return false }
                out.inputTokens = v
            } else if c.keyEquals(key, "stop_type") {
                var value: [UInt8] = []
                guard c.peek() == 0x22, c.appendString(to: &value) else { return false }
                // "none" is what a partial result carries.
                if !value.isEmpty && value != Array("none".utf8) { out.finished = true }
            } else if c.keyEquals(key, "stopped_eos") || c.keyEquals(key, "stopped_limit")
                || c.keyEquals(key, "stopped_word")
            {
                guard let flag = c.bool() else { return false }
                if flag { out.finished = true }
            } else if c.keyEquals(key, "timings") {
                guard timings(&c, into: &out) else { return false }
                out.hasTimings = true
            } else if c.keyEquals(key, "error") {
                let start = c.pos
                guard c.skipValue() else { return false }
                let raw = UnsafeRawBufferPointer(start: c.base + start, count: c.pos - start)
                out.errorDetail = String(decoding: raw.prefix(1024), as: UTF8.self)
                out.errorStatus = errorCode(raw) ?? 500
            } else {
                guard c.skipValue() else { return false }
            }
        } while c.consume(0x2C)
        return c.consume(0x7D)
    }

    private static func timings(_ c: inout JSONCursor, into out: inout NativePayload) -> Bool {
        guard c.consume(0x7B) else { return false }
        if c.consume(0x7D) { return true }
        repeat {
            guard let key = c.rawString(), c.consume(0x3A) else { return false }
            if c.consumeNull() { continue }
            if c.keyEquals(key, "predicted_n") {
                guard let v = c.integer() else { return false }
                out.timingsPredicted = v
            } else if c.keyEquals(key, "prompt_n") {
                guard let v = c.integer() else { return false }
                out.timingsPrompt = v
            } else if c.keyEquals(key, "cache_n") {
                guard let v = c.integer() else { return false }
                out.cachedTokens = v
            } else {
                guard c.skipValue() else { return false }
            }
        } while c.consume(0x2C)
        return c.consume(0x7D)
    }

    /// `error.code` of llama.cpp's error object, when it is an HTTP status.
    private static func errorCode(_ raw: UnsafeRawBufferPointer) -> Int? {
        var c = JSONCursor(raw)
        guard c.consume(0x7B), !c.consume(0x7D) else { return nil }
        repeat {
            guard let key = c.rawString(), c.consume(0x3A) else { return nil }
            if c.keyEquals(key, "code") {
                guard let code = c.integer(), (400..<600).contains(code) else { return nil }
                return code
            }
            guard c.skipValue() else { return nil }
        } while c.consume(0x2C)
        return nil
    }

    // MARK: TGI

    private static func tgi(_ c: inout JSONCursor, into out: inout NativePayload, content: inout [UInt8]) -> Bool {
        guard c.consume(0x7B) else { return false }
        if c.consume(0x7D) { return true }
        var errorText: String?
        var errorType: String?
        var generated: [UInt8]?
        repeat {
            guard let key = c.rawString(), c.consume(0x3A) else { return false }
            if c.consumeNull() { continue }
            if c.keyEquals(key, "token") {
                guard token(&c, into: &out, content: &content) else { return false }
            } else if c.keyEquals(key, "generated_text") {
                var text: [UInt8] = []
                guard c.peek() == 0x22, c.appendString(to: &text) else { return false }
                generated = text
                out.final = true
            } else if c.keyEquals(key, "details") {
                guard details(&c, into: &out) else { return false }
                out.final = true
            } else if c.keyEquals(key, "error") {
                var text: [UInt8] = []
                if c.peek() == 0x22 {
                    guard c.appendString(to: &text) else { return false }
                } else {
                    let start = c.pos
                    guard c.skipValue() else { return false }
                    text = Array(UnsafeRawBufferPointer(start: c.base + start, count: c.pos - start))
                }
                errorText = String(decoding: text.prefix(1024), as: UTF8.self)
            } else if c.keyEquals(key, "error_type") {
                var text: [UInt8] = []
                guard c.peek() == 0x22, c.appendString(to: &text) else { return false }
                errorType = String(decoding: text, as: UTF8.self)
            } else {
                guard c.skipValue() else { return false }
            }
        } while c.consume(0x2C)
        guard c.consume(0x7D) else { return false }
        if let errorText {
            out.errorStatus = tgiStatus(forErrorType: errorType)
            out.errorDetail = (errorType.map { $0 + ": " } ?? "") + errorText
        }
        // A whole `/generate` body: its text is `generated_text` (a stream's last event repeats
        // the whole text there, which is not new content).
        if !out.hasToken, let generated {
            content.append(contentsOf: generated)
            out.hasContent = true
        }
        return true
    }

    private static func token(_ c: inout JSONCursor, into out: inout NativePayload, content: inout [UInt8]) -> Bool {
        guard c.consume(0x7B) else { return false }
        out.hasToken = true
        if c.consume(0x7D) { return true }
        // The text goes straight into `content` (the reused scratch: no allocation per token) and is taken
        // back out when the token turns out to be special.
        let mark = content.count
        var special = false
        repeat {
            guard let key = c.rawString(), c.consume(0x3A) else { return false }
            if c.consumeNull() { continue }
            if c.keyEquals(key, "text") {
                guard c.peek() == 0x22, c.appendString(to: &content) else { return false }
            } else if c.keyEquals(key, "special") {
                guard let flag = c.bool() else { return false }
                special = flag
            } else {
                guard c.skipValue() else { return false }
            }
        } while c.consume(0x2C)
        guard c.consume(0x7D) else { return false }
        // A special token (`</s>`, `<|eot_id|>`) is generated and counted, but is no text.
        if special {
            content.removeSubrange(mark...)
        } else {
            out.hasContent = true
        }
        return true
    }

    private static func details(_ c: inout JSONCursor, into out: inout NativePayload) -> Bool {
        guard c.consume(0x7B) else { return false }
        if c.consume(0x7D) { return true }
        repeat {
            guard let key = c.rawString(), c.consume(0x3A) else { return false }
            if c.consumeNull() { continue }
            if c.keyEquals(key, "generated_tokens") {
                guard let v = c.integer() else { return false }
                out.outputTokens = v
            } else if c.keyEquals(key, "input_length") {
                guard let v = c.integer() else { return false }
                out.inputTokens = v
            } else if c.keyEquals(key, "finish_reason") {
                guard c.skipValue() else { return false }
                out.finished = true
            } else {
                guard c.skipValue() else { return false }
            }
        } while c.consume(0x2C)
        return c.consume(0x7D)
    }
}

extension JSONCursor {
    /// True when the key (raw bytes as `rawString` returned them) equals `literal` once
    /// unescaped.
    func keyEquals(_ key: (start: Int, end: Int, escaped: Bool), _ literal: StaticString) -> Bool {
        if !key.escaped { return rawEquals(key, literal) }
        var decoded: [UInt8] = []
        guard Self.unescape(base: base, start: key.start, end: key.end, escaped: true, into: &decoded) else {
            return false
        }
        return decoded.elementsEqual(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// Reads `true` or `false`.
    mutating func bool() -> Bool? {
        guard let c = peek() else { return nil }
        if c == 0x74 || c == 0x66 {
            let start = pos
            guard skipValue() else { return nil }
            return pos - start == 4
        }
        return nil
    }
}
