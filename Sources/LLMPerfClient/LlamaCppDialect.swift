import LLMPerfCore

/// `POST /completion`, llama.cpp's native endpoint (llama-server, tools/server/README.md): the
/// prompt as one string (the system text, when any, first, then a blank line, then the user text,
/// as `openai-completions` sends it), `n_predict` from `workload.max_tokens`, `stream`,
/// `temperature`, `seed`, then the scenario's `extra_body` fields (`cache_prompt` and the rest are
/// left to the server's defaults unless the scenario sets them there).
///
/// A stream is SSE `data:` events with no `[DONE]`: each carries `content`, and the last one
/// `stop: true` with `tokens_predicted`, `tokens_evaluated`, the stop reason and `timings`. Each
/// event with content is one chunk of one token; the stream is complete at `stop: true`. Usage:
/// output `tokens_predicted` (else `timings.predicted_n`), input `tokens_evaluated` (else
/// `timings.prompt_n`), cached `timings.cache_n`. The server's own timings (`prompt_ms`,
/// `predicted_ms`, `draft_n`, `draft_n_accepted`) are stored as the trace's `serverTimings`. An `error` object in a stream fails the request as
/// `http_<error.code>` (500 without one), keeping the tokens that arrived.
public struct LlamaCppDialect: APIDialect {
    public init() {}

    public var kind: APIKind { .llamaCpp }
    public var streamFraming: StreamFraming { .serverSentEvents }

    public func requestBody(prompt: Prompt, workload: WorkloadSpec, model: String) -> [UInt8] {
        var w = JSONBodyWriter()
        w.beginObject()
        w.key("prompt")
        w.string(prompt.completionText)
        if let maxTokens = workload.maxTokens(for: prompt) {
            w.key("n_predict")
            w.integer(maxTokens)
        }
        if workload.sendsIgnoreEOS(for: prompt) {
            w.key("ignore_eos")
            w.bool(true)
        }
        w.key("stream")
        w.bool(workload.stream)
        if let temperature = workload.temperature {
            w.key("temperature")
            w.number(temperature)
        }
        if let seed = workload.seed {
            w.key("seed")
            w.integer(seed)
        }
        OpenAIRequestOptions.write(fields: workload.extraBody, to: &w)
        w.endObject()
        return w.bytes
    }

    public func decodeStreamEvent(
        name: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer, into r: inout ResponseAccumulator
    ) {
        if r.sawDone { return }
        r.scratch.removeAll(keepingCapacity: true)
        defer { r.releaseLargeScratch() }
        guard let payload = NativePayload.scan(data, api: .llamaCpp, content: &r.scratch) else {
            r.failMalformedEvent(data)
            return
        }
        if let status = payload.errorStatus {
            r.fail(.http(status: status), "error event in stream: " + (payload.errorDetail ?? ""))
            return
        }
        if !r.scratch.isEmpty { r.recordScratchContent(tokens: 1) }
        Self.record(payload, bytes: data, into: &r)
    }

    public func decodeBody(_ body: UnsafeRawBufferPointer, into r: inout ResponseAccumulator) {
        r.scratch.removeAll(keepingCapacity: true)
        guard let payload = NativePayload.scan(body, api: .llamaCpp, content: &r.scratch) else {
            r.fail(.decode, "malformed response body: " + String(decoding: body.prefix(200), as: UTF8.self))
            return
        }
        if let status = payload.errorStatus {
            r.fail(.http(status: status), "error in body: " + (payload.errorDetail ?? ""))
            return
        }
        guard payload.hasContent else {
            r.fail(.decode, "response has no content: " + String(decoding: body.prefix(200), as: UTF8.self))
            return
        }
        Self.record(payload, bytes: body, into: &r)
        let tokens = payload.outputTokens ?? payload.timingsPredicted ?? 1
        if !r.scratch.isEmpty || tokens > 0 { r.recordScratchContent(tokens: UInt32(clamping: max(tokens, 0))) }
    }

    /// Usage, the server's timings (read from `bytes`, the payload itself, when it has them) and end markers.
    static func record(_ payload: NativePayload, bytes: UnsafeRawBufferPointer, into r: inout ResponseAccumulator) {
        let usage = TokenUsage(
            promptTokens: payload.inputTokens ?? payload.timingsPrompt,
            completionTokens: payload.outputTokens ?? payload.timingsPredicted, cachedTokens: payload.cachedTokens)
        if usage != TokenUsage() { r.merge(usage: usage) }
        if payload.hasTimings { r.merge(serverTimings: ServerTimingsReader.llamaCpp(bytes)) }
        if payload.finished { r.markFinished() }
        if payload.final {
            r.markFinished()
            r.markDone()
        }
    }

    /// The event with `stop: true` arrived.
    public func streamIsComplete(_ response: ResponseAccumulator) -> Bool { response.sawDone }
}
