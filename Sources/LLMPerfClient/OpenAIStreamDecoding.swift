import LLMPerfCore

/// Response handling shared by the OpenAI chat and completions dialects: both stream
/// `chat.completion.chunk`/`text_completion` objects over SSE, end with `data: [DONE]` and
/// report `usage` the same way.
///
/// An `{"error": …}` object inside a 200 stream (or an `event: error`) is recorded as
/// `http(status)`: the server refused or aborted the request, so it is an HTTP-level error
/// rather than a malformed response. The status is the error's numeric `code` (or `status`)
/// when it is 400–599, else 500. Tokens received before it are kept.
enum OpenAIStreamDecoding {
    static func decodeStreamEvent(
        name: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer, into r: inout ResponseAccumulator
    ) {
        if r.sawDone { return }
        if isDone(data) {
            r.markDone()
            return
        }
        r.scratch.removeAll(keepingCapacity: true)
        defer { r.releaseLargeScratch() }
        guard let payload = OpenAIPayload.scan(data, content: &r.scratch) else {
            r.failMalformedEvent(data)
            return
        }
        // Tokens per event are 1 here; when `usage` reports more, they are apportioned at the
        // end of the stream (`ResponseAccumulator.apportionUsageOverChunks`).
        // A tool call's first event may carry only its name, or nothing but the call's id: it is
        // still the first answer output.
        if !r.scratch.isEmpty || payload.hasAnswer {
            r.recordScratchContent(tokens: 1, reasoning: payload.hasReasoning && !payload.hasAnswer)
        }
        if let usage = payload.usage { r.merge(usage: usage) }
        if payload.hasTimings { r.merge(serverTimings: ServerTimingsReader.llamaCpp(data)) }
        if payload.finished { r.markFinished() }
        if let detail = payload.errorDetail {
            r.fail(.http(status: errorStatus(payload.errorCode)), "error in stream: " + detail)
        } else if isErrorEvent(name) {
            r.fail(.http(status: 500), "error event in stream: " + String(decoding: data.prefix(1024), as: UTF8.self))
        }
    }

    static func decodeBody(_ body: UnsafeRawBufferPointer, into r: inout ResponseAccumulator) {
        r.scratch.removeAll(keepingCapacity: true)
        guard let payload = OpenAIPayload.scan(body, content: &r.scratch) else {
            r.fail(.decode, "malformed response body: " + String(decoding: body.prefix(200), as: UTF8.self))
            return
        }
        if let usage = payload.usage { r.merge(usage: usage) }
        if payload.hasTimings { r.merge(serverTimings: ServerTimingsReader.llamaCpp(body)) }
        if let detail = payload.errorDetail {
            r.fail(.http(status: errorStatus(payload.errorCode)), "error in body: " + detail)
            return
        }
        guard payload.hasChoices else {
            r.fail(.decode, "response has no choices: " + String(decoding: body.prefix(200), as: UTF8.self))
            return
        }
        if payload.finished { r.markFinished() }
        let tokens = r.usage?.completionTokens ?? 1
        if !r.scratch.isEmpty || tokens > 0 && r.usage?.completionTokens != nil {
            r.recordScratchContent(
                tokens: UInt32(clamping: max(tokens, 0)), reasoning: payload.hasReasoning && !payload.hasAnswer)
        }
    }

    static func streamIsComplete(_ r: ResponseAccumulator) -> Bool { r.sawDone || r.sawFinish }

    private static func errorStatus(_ code: Int?) -> Int {
        if let code, (400...599).contains(code) { return code }
        return 500
    }

    @inline(__always)
    private static func isDone(_ data: UnsafeRawBufferPointer) -> Bool {
        // "[DONE]", tolerating surrounding whitespace.
        var s = 0
        var e = data.count
        while s < e, data[s] == 0x20 || data[s] == 0x09 { s += 1 }
        while e > s, data[e - 1] == 0x20 || data[e - 1] == 0x09 { e -= 1 }
        guard e - s == 6 else { return false }
        return data[s] == 0x5B && data[s + 1] == 0x44 && data[s + 2] == 0x4F && data[s + 3] == 0x4E
            && data[s + 4] == 0x45 && data[s + 5] == 0x5D
    }

    private static func isErrorEvent(_ name: UnsafeRawBufferPointer) -> Bool {
        name.count == 5 && name.elementsEqual("error".utf8)
    }
}

/// A dialect whose responses are OpenAI-shaped (chat and completions alike): streamed events
/// and bodies decode the same way.
public protocol OpenAIResponseDecoding: APIDialect {}

extension OpenAIResponseDecoding {
    public var streamFraming: StreamFraming { .serverSentEvents }

    public func decodeStreamEvent(
        name: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer, into response: inout ResponseAccumulator
    ) {
        OpenAIStreamDecoding.decodeStreamEvent(name: name, data: data, into: &response)
    }

    public func decodeBody(_ body: UnsafeRawBufferPointer, into response: inout ResponseAccumulator) {
        OpenAIStreamDecoding.decodeBody(body, into: &response)
    }

    public func streamIsComplete(_ response: ResponseAccumulator) -> Bool {
        OpenAIStreamDecoding.streamIsComplete(response)
    }
}
