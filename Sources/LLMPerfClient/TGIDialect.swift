import LLMPerfCore

/// Hugging Face Text Generation Inference's native API (its OpenAPI: GenerateRequest,
/// StreamResponse, GenerateResponse, ErrorResponse): `POST /generate_stream` for a streamed
/// workload, `POST /generate` otherwise. The body is `inputs` (the prompt as one string, as
/// `openai-completions` sends it) and `parameters`: `max_new_tokens` from `workload.max_tokens`,
/// `temperature` only when above 0 (TGI refuses 0; leaving it out is TGI's greedy decoding),
/// `seed`, `details: true` (for the token count), `decoder_input_details: false`, and the
/// scenario's `extra_body` fields (TGI's knobs all live in `parameters`).
///
/// A stream is SSE `data:` events with no `[DONE]`: each carries one `token`; the last one also
/// `generated_text` and `details` (`finish_reason`, `generated_tokens`, `input_length`). Every
/// token event is one chunk of one token, a special token (`special: true`, such as an
/// end-of-sequence token) included, since TGI generated and counted it, but a special token adds
/// no text. The stream is complete when `generated_text` or `details` arrived. An
/// `{"error", "error_type"}` event fails the request as the HTTP status TGI answers that error
/// type with (422 validation, 424 generation, 429 overloaded, 500 incomplete_generation),
/// keeping the tokens that arrived.
public struct TGIDialect: APIDialect {
    public init() {}

    public var kind: APIKind { .tgi }
    public var streamFraming: StreamFraming { .serverSentEvents }

    public func requestBody(prompt: Prompt, workload: WorkloadSpec, model: String) -> [UInt8] {
        var w = JSONBodyWriter()
        w.beginObject()
        w.key("inputs")
        w.string(prompt.completionText)
        w.key("parameters")
        w.beginObject()
        if let maxTokens = workload.maxTokens(for: prompt) {
            w.key("max_new_tokens")
            w.integer(maxTokens)
        }
        if let temperature = workload.temperature, temperature > 0 {
            w.key("temperature")
            w.number(temperature)
        }
        if let seed = workload.seed {
            w.key("seed")
            // TGI's seed is unsigned.
            w.integer(max(seed, 0))
        }
        w.key("details")
        w.bool(true)
        w.key("decoder_input_details")
        w.bool(false)
        OpenAIRequestOptions.write(fields: workload.extraBody, to: &w)
        w.endObject()
        w.endObject()
        return w.bytes
    }

    public func decodeStreamEvent(
        name: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer, into r: inout ResponseAccumulator
    ) {
        if r.sawDone { return }
        r.scratch.removeAll(keepingCapacity: true)
        defer { r.releaseLargeScratch() }
        guard let payload = NativePayload.scan(data, api: .tgi, content: &r.scratch) else {
            r.failMalformedEvent(data)
            return
        }
        if let status = payload.errorStatus {
            r.fail(.http(status: status), "error event in stream: " + (payload.errorDetail ?? ""))
            return
        }
        if payload.hasToken { r.recordScratchContent(tokens: 1) }
        Self.record(payload, into: &r)
    }

    public func decodeBody(_ body: UnsafeRawBufferPointer, into r: inout ResponseAccumulator) {
        r.scratch.removeAll(keepingCapacity: true)
        guard let payload = NativePayload.scan(body, api: .tgi, content: &r.scratch) else {
            r.fail(.decode, "malformed response body: " + String(decoding: body.prefix(200), as: UTF8.self))
            return
        }
        if let status = payload.errorStatus {
            r.fail(.http(status: status), "error in body: " + (payload.errorDetail ?? ""))
            return
        }
        guard payload.hasContent else {
            r.fail(.decode, "response has no generated_text: " + String(decoding: body.prefix(200), as: UTF8.self))
            return
        }
        Self.record(payload, into: &r)
        let tokens = payload.outputTokens ?? 1
        if !r.scratch.isEmpty || tokens > 0 { r.recordScratchContent(tokens: UInt32(clamping: max(tokens, 0))) }
    }

    static func record(_ payload: NativePayload, into r: inout ResponseAccumulator) {
        let usage = TokenUsage(promptTokens: payload.inputTokens, completionTokens: payload.outputTokens)
        if usage != TokenUsage() { r.merge(usage: usage) }
        if payload.finished { r.markFinished() }
        if payload.final {
            r.markFinished()
            r.markDone()
        }
    }

    /// `generated_text` or `details` arrived (the last event).
    public func streamIsComplete(_ response: ResponseAccumulator) -> Bool { response.sawDone }
}
