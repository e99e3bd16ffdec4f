import LLMPerfCore

/// `POST /v1/messages`, Anthropic's Messages API: `max_tokens` (required), the prompt as one
/// user message with `system` apart, `stream`, `temperature`, extended thinking
/// (`thinking.budget_tokens`) and tools translated from the scenario's OpenAI-style
/// definitions; the `anthropic-version` header (the scenario supplies `x-api-key`). Streams are
/// SSE events named by type (message_start, content_block_start/delta/stop, message_delta,
/// message_stop, ping, error); see `AnthropicPayload` for what each yields.
///
/// An `error` event inside a 200 stream (`overloaded_error`, …) fails the request as the HTTP
/// status Anthropic documents for that error type (529 for overloaded), keeping what arrived.
public struct AnthropicDialect: APIDialect {
    public init() {}

    public var kind: APIKind { .anthropic }
    public var streamFraming: StreamFraming { .serverSentEvents }
    /// The API version this dialect's wire format follows; a scenario header overrides it.
    public var defaultHeaderLines: [String] { ["anthropic-version: 2023-06-01"] }

    public func requestBody(prompt: Prompt, workload: WorkloadSpec, model: String) -> [UInt8] {
        var w = JSONBodyWriter()
        w.beginObject()
        w.key("model")
        w.string(model)
        w.key("max_tokens")
        // The scenario loader requires max_tokens for this API; 1024 only for a hand-made workload.
        w.integer(workload.maxTokens(for: prompt) ?? 1024)
        if let system = prompt.system {
            w.key("system")
            w.string(system)
        }
        w.key("messages")
        w.beginArray()
        OpenAIRequestOptions.conversation(prompt, to: &w)
        w.endArray()
        if let temperature = workload.temperature {
            w.key("temperature")
            w.number(temperature)
        }
        w.key("stream")
        w.bool(workload.stream)
        if let budget = workload.reasoningBudgetTokens {
            w.key("thinking")
            w.beginObject()
            w.key("type")
            w.string("enabled")
            w.key("budget_tokens")
            w.integer(budget)
            w.endObject()
        }
        if !workload.tools.isEmpty {
            w.key("tools")
            w.beginArray()
            for tool in workload.tools { writeTool(tool, to: &w) }
            w.endArray()
        }
        if let choice = workload.toolChoice {
            w.key("tool_choice")
            writeToolChoice(choice, to: &w)
        }
        OpenAIRequestOptions.write(fields: workload.extraBody, to: &w)
        w.endObject()
        return w.bytes
    }

    /// `{type: function, function: {name, description, parameters}}` → `{name, description,
    /// input_schema}` (an object schema with no properties when the definition has none).
    private func writeTool(_ tool: RequestBodyValue, to w: inout JSONBodyWriter) {
        let function = tool.field("function")
        w.beginObject()
        w.key("name")
        OpenAIRequestOptions.write(function?.field("name") ?? .string(""), to: &w)
        if let description = function?.field("description") {
            w.key("description")
            OpenAIRequestOptions.write(description, to: &w)
        }
        w.key("input_schema")
        OpenAIRequestOptions.write(
            function?.field("parameters")
                ?? .object([RequestBodyField(key: "type", value: .string("object"))]), to: &w)
        w.endObject()
    }

    /// `auto` → `{type: auto}`, `required` → `{type: any}`, `none` → `{type: none}`, a named
    /// function → `{type: tool, name}`.
    private func writeToolChoice(_ choice: RequestBodyValue, to w: inout JSONBodyWriter) {
        w.beginObject()
        w.key("type")
        switch choice {
        case .string("required"): w.string("any")
        case .string(let word): w.string(word)
        default:
            w.string("tool")
            w.key("name")
            OpenAIRequestOptions.write(choice.field("function")?.field("name") ?? .string(""), to: &w)
        }
        w.endObject()
    }

    public func decodeStreamEvent(
        name: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer, into r: inout ResponseAccumulator
    ) {
        if r.sawDone { return }
        r.scratch.removeAll(keepingCapacity: true)
        defer { r.releaseLargeScratch() }
        guard let payload = AnthropicPayload.scan(data, content: &r.scratch) else {
            r.failMalformedEvent(data)
            return
        }
        if payload.kind == .error || (name.count == 5 && name.elementsEqual("error".utf8)) {
            let status = AnthropicPayload.status(forErrorType: payload.errorType)
            r.fail(
                .http(status: status), "error event in stream: " + String(decoding: data.prefix(1024), as: UTF8.self))
            return
        }
        if payload.kind == .messageStop {
            r.markDone()
            return
        }
        if !r.scratch.isEmpty {
            r.recordScratchContent(tokens: 1, reasoning: payload.hasReasoning && !payload.hasAnswer)
        }
        var usage = TokenUsage(promptTokens: payload.promptTokens, cachedTokens: payload.cacheReadTokens)
        // message_start's output_tokens is a placeholder (0 or 1); message_delta carries the count.
        if payload.kind != .messageStart { usage.completionTokens = payload.outputTokens }
        if usage != TokenUsage() { r.merge(usage: usage) }
        if payload.finished { r.markFinished() }
    }

    public func decodeBody(_ body: UnsafeRawBufferPointer, into r: inout ResponseAccumulator) {
        r.scratch.removeAll(keepingCapacity: true)
        guard let payload = AnthropicPayload.scan(body, content: &r.scratch) else {
            r.fail(.decode, "malformed response body: " + String(decoding: body.prefix(200), as: UTF8.self))
            return
        }
        if payload.kind == .error || payload.errorType != nil {
            let status = AnthropicPayload.status(forErrorType: payload.errorType)
            r.fail(.http(status: status), "error in body: " + (payload.errorDetail ?? ""))
            return
        }
        guard payload.kind == .message else {
            r.fail(.decode, "response is not a message: " + String(decoding: body.prefix(200), as: UTF8.self))
            return
        }
        r.merge(
            usage: TokenUsage(
                promptTokens: payload.promptTokens, completionTokens: payload.outputTokens,
                cachedTokens: payload.cacheReadTokens))
        if payload.finished { r.markFinished() }
        let tokens = payload.outputTokens ?? 1
        if !r.scratch.isEmpty || payload.outputTokens != nil && tokens > 0 {
            r.recordScratchContent(
                tokens: UInt32(clamping: max(tokens, 0)), reasoning: payload.hasReasoning && !payload.hasAnswer)
        }
    }

    /// `message_stop` arrived, or at least the `stop_reason` of message_delta.
    public func streamIsComplete(_ response: ResponseAccumulator) -> Bool { response.sawDone || response.sawFinish }
}

extension RequestBodyValue {
    /// The value under `key` when this is an object that has it.
    func field(_ key: String) -> RequestBodyValue? {
        guard case .object(let fields) = self else { return nil }
        return fields.first { $0.key == key }?.value
    }
}
