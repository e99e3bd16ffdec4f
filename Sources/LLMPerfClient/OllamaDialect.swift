import LLMPerfCore

/// Ollama's native API: `POST /api/chat` (`chat`: the prompt as messages, tools) or `POST
/// /api/generate` (the prompt as `prompt`, `system` apart). The body has `stream`, `think`
/// (true when `workload.reasoning` is given, or its effort level `"low"`, `"medium"` or
/// `"high"` for the models that take one), and `options` with `num_predict` (max_tokens),
/// `temperature` and `seed`. Tools pass through as written: Ollama takes OpenAI-style function
/// definitions. Streams are newline-delimited JSON, one object per line (see `OllamaPayload`
/// for what each yields); the answer ends with an object that has `done: true`.
///
/// An `{"error": "…"}` object inside a 200 stream or body fails the request as `http_500`: the
/// server reported an error after it had answered 200, and Ollama gives it no status of its own.
public struct OllamaDialect: APIDialect {
    public let kind: APIKind

    /// `kind`: `.ollama` (chat) or `.ollamaGenerate`.
    public init(kind: APIKind = .ollama) {
        self.kind = kind == .ollamaGenerate ? .ollamaGenerate : .ollama
    }

    public var streamFraming: StreamFraming { .newlineDelimitedJSON }

    public func requestBody(prompt: Prompt, workload: WorkloadSpec, model: String) -> [UInt8] {
        var w = JSONBodyWriter()
        w.beginObject()
        w.key("model")
        w.string(model)
        if kind == .ollama {
            w.key("messages")
            w.beginArray()
            if let system = prompt.system { message("system", system, to: &w) }
            OpenAIRequestOptions.conversation(prompt, to: &w)
            w.endArray()
        } else {
            w.key("prompt")
            w.string(
                prompt.history.isEmpty ? prompt.user : Prompt(history: prompt.history, user: prompt.user).completionText
            )
            if let system = prompt.system {
                w.key("system")
                w.string(system)
            }
        }
        w.key("stream")
        w.bool(workload.stream)
        if workload.reasoningRequested {
            w.key("think")
            if let effort = workload.reasoningEffort { w.string(effort.rawValue) } else { w.bool(true) }
        }
        if kind == .ollama && !workload.tools.isEmpty {
            w.key("tools")
            w.beginArray()
            for tool in workload.tools { OpenAIRequestOptions.write(tool, to: &w) }
            w.endArray()
        }
        let maxTokens = workload.maxTokens(for: prompt)
        if maxTokens != nil || workload.temperature != nil || workload.seed != nil {
            w.key("options")
            w.beginObject()
            if let maxTokens {
                w.key("num_predict")
                w.integer(maxTokens)
            }
            if let temperature = workload.temperature {
                w.key("temperature")
                w.number(temperature)
            }
            if let seed = workload.seed {
                w.key("seed")
                w.integer(seed)
            }
            w.endObject()
        }
        OpenAIRequestOptions.write(fields: workload.extraBody, to: &w)
        w.endObject()
        return w.bytes
    }

    private func message(_ role: String, _ content: String, to w: inout JSONBodyWriter) {
        w.beginObject()
        w.key("role")
        w.string(role)
        w.key("content")
        w.string(content)
        w.endObject()
    }

    /// One line of the stream (`name` is empty: NDJSON has no event names). Each line with text is
    /// one content chunk of one token, reasoning when it carried `thinking` only.
    public func decodeStreamEvent(
        name: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer, into r: inout ResponseAccumulator
    ) {
        if r.sawDone { return }
        r.scratch.removeAll(keepingCapacity: true)
        defer { r.releaseLargeScratch() }
        guard let payload = OllamaPayload.scan(data, content: &r.scratch) else {
            r.fail(
                .decode,
                "malformed NDJSON line after \(r.contentChunkCount) content lines: "
                    + String(decoding: data.prefix(200), as: UTF8.self))
            return
        }
        if let error = payload.error {
            r.fail(.http(status: 500), "error object in stream after \(r.contentChunkCount) content lines: " + error)
            return
        }
        if !r.scratch.isEmpty || payload.hasToolCall {
            r.recordScratchContent(tokens: 1, reasoning: payload.hasReasoning && !payload.hasAnswer)
        }
        merge(payload, bytes: data, into: &r)
        if payload.done { r.markDone() }
    }

    public func decodeBody(_ body: UnsafeRawBufferPointer, into r: inout ResponseAccumulator) {
        r.scratch.removeAll(keepingCapacity: true)
        guard let payload = OllamaPayload.scan(body, content: &r.scratch) else {
            r.fail(.decode, "malformed response body: " + String(decoding: body.prefix(200), as: UTF8.self))
            return
        }
        if let error = payload.error {
            r.fail(.http(status: 500), "error in body: " + error)
            return
        }
        guard payload.done else {
            r.fail(
                .decode,
                "response is not a finished answer (no done: true): "
                    + String(decoding: body.prefix(200), as: UTF8.self))
            return
        }
        merge(payload, bytes: body, into: &r)
        r.markDone()
        let tokens = payload.evalCount ?? 1
        if !r.scratch.isEmpty || payload.hasToolCall || payload.evalCount != nil && tokens > 0 {
            r.recordScratchContent(
                tokens: UInt32(clamping: max(tokens, 0)), reasoning: payload.hasReasoning && !payload.hasAnswer)
        }
    }

    /// Counts, durations (read from `bytes`, the object itself, when it has them) and the end marker.
    private func merge(_ payload: OllamaPayload, bytes: UnsafeRawBufferPointer, into r: inout ResponseAccumulator) {
        if payload.promptEvalCount != nil || payload.evalCount != nil {
            r.merge(usage: TokenUsage(promptTokens: payload.promptEvalCount, completionTokens: payload.evalCount))
        }
        if payload.hasDurations { r.merge(serverTimings: ServerTimingsReader.ollama(bytes)) }
        if payload.doneReason != nil { r.markFinished() }
    }

    /// The object with `done: true` arrived.
    public func streamIsComplete(_ response: ResponseAccumulator) -> Bool { response.sawDone }
}
