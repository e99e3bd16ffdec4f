import Foundation
import LLMPerfCore

/// `POST /v1/responses`, OpenAI's Responses API: the prompt as `input` (one user message) with
/// the system prompt as `instructions`, `max_output_tokens`, `temperature`, `stream`,
/// `reasoning.effort`, and tools flattened from the scenario's chat-style definitions
/// (`{type: function, name, description, parameters}`; a named `tool_choice` likewise).
/// Streams are typed SSE events with no `[DONE]`: see `ResponsesPayload` for what each yields.
///
/// `response.incomplete` (the output reached `max_output_tokens`) ends a stream normally, as a
/// length finish does elsewhere; `response.failed` and an `error` event fail the request as the
/// HTTP status the error's code stands for, keeping what arrived.
public struct OpenAIResponsesDialect: APIDialect {
    public init() {}

    public var kind: APIKind { .openAIResponses }
    public var streamFraming: StreamFraming { .serverSentEvents }

    public func requestBody(prompt: Prompt, workload: WorkloadSpec, model: String) -> [UInt8] {
        var w = JSONBodyWriter()
        w.beginObject()
        w.key("model")
        w.string(model)
        if let system = prompt.system {
            w.key("instructions")
            w.string(system)
        }
        w.key("input")
        w.beginArray()
        OpenAIRequestOptions.conversation(prompt, to: &w)
        w.endArray()
        if let maxTokens = workload.maxTokens(for: prompt) {
            w.key("max_output_tokens")
            w.integer(maxTokens)
        }
        if let temperature = workload.temperature {
            w.key("temperature")
            w.number(temperature)
        }
        w.key("stream")
        w.bool(workload.stream)
        if let effort = workload.reasoningEffort {
            w.key("reasoning")
            w.beginObject()
            w.key("effort")
            w.string(effort.rawValue)
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
            if case .string = choice {
                OpenAIRequestOptions.write(choice, to: &w)
            } else {
                w.beginObject()
                w.key("type")
                w.string("function")
                w.key("name")
                OpenAIRequestOptions.write(choice.field("function")?.field("name") ?? .string(""), to: &w)
                w.endObject()
            }
        }
        OpenAIRequestOptions.write(fields: workload.extraBody, to: &w)
        w.endObject()
        return w.bytes
    }

    /// `{type: function, function: {name, description, parameters}}` → `{type: function, name,
    /// description, parameters}`: the Responses API's function tools are flat.
    private func writeTool(_ tool: RequestBodyValue, to w: inout JSONBodyWriter) {
        w.beginObject()
        w.key("type")
        w.string("function")
        if case .object(let fields) = tool.field("function") {
            for field in fields {
                w.key(field.key)
                OpenAIRequestOptions.write(field.value, to: &w)
            }
        }
        w.endObject()
    }

    public func decodeStreamEvent(
        name: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer, into r: inout ResponseAccumulator
    ) {
        if r.sawDone { return }
        r.scratch.removeAll(keepingCapacity: true)
        defer { r.releaseLargeScratch() }
        guard let payload = ResponsesPayload.scan(data, content: &r.scratch) else {
            r.failMalformedEvent(data)
            return
        }
        switch payload.kind {
        case .answerDelta, .reasoningDelta, .outputItemAdded:
            // A call's opening carries only its name: still the first answer output.
            if !r.scratch.isEmpty || payload.functionCallItem {
                r.recordScratchContent(tokens: 1, reasoning: payload.kind == .reasoningDelta)
            }
        case .completed, .incomplete:
            if let usage = payload.usage { r.merge(usage: usage) }
            r.markFinished()
            r.markDone()
        case .failed, .error:
            if let usage = payload.usage { r.merge(usage: usage) }
            r.fail(
                .http(status: ResponsesPayload.status(forCode: payload.errorCode)),
                (payload.kind == .failed ? "response.failed in stream: " : "error event in stream: ")
                    + (payload.errorDetail ?? ""))
        case .other:
            break
        }
    }

    /// A whole response object: its `output` items' text (message `output_text`, reasoning
    /// text or summaries, function calls' name and arguments), `status` and `usage`. Read with
    /// `JSONSerialization`: one body per request is off the hot path.
    public func decodeBody(_ body: UnsafeRawBufferPointer, into r: inout ResponseAccumulator) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)), let root = object as? [String: Any]
        else {
            r.fail(.decode, "malformed response body: " + String(decoding: body.prefix(200), as: UTF8.self))
            return
        }
        if let usage = root["usage"] as? [String: Any] { r.merge(usage: ResponsesPayload.usage(usage)) }
        if let error = root["error"] as? [String: Any] {
            let detail = (try? JSONSerialization.data(withJSONObject: error)).map {
                String(decoding: $0, as: UTF8.self)
            }
            r.fail(
                .http(status: ResponsesPayload.status(forCode: error["code"] as? String)),
                "error in body: " + String((detail ?? "").prefix(1024)))
            return
        }
        guard let output = root["output"] as? [Any] else {
            r.fail(.decode, "response has no output: " + String(decoding: body.prefix(200), as: UTF8.self))
            return
        }
        var hasAnswer = false
        var hasReasoning = false
        r.scratch.removeAll(keepingCapacity: true)
        for case let item as [String: Any] in output {
            switch item["type"] as? String {
            case "message":
                for case let part as [String: Any] in item["content"] as? [Any] ?? [] {
                    guard let text = part["text"] as? String ?? part["refusal"] as? String else { continue }
                    r.scratch.append(contentsOf: text.utf8)
                    hasAnswer = true
                }
            case "reasoning":
                for key in ["content", "summary"] {
                    for case let part as [String: Any] in item[key] as? [Any] ?? [] {
                        guard let text = part["text"] as? String else { continue }
                        r.scratch.append(contentsOf: text.utf8)
                        hasReasoning = true
                    }
                }
            case "function_call":
                r.scratch.append(contentsOf: (item["name"] as? String ?? "").utf8)
                r.scratch.append(contentsOf: (item["arguments"] as? String ?? "").utf8)
                hasAnswer = true
            default:
                continue
            }
        }
        if root["status"] as? String != "in_progress" { r.markFinished() }
        let tokens = r.usage?.completionTokens ?? 1
        if !r.scratch.isEmpty || tokens > 0 && r.usage?.completionTokens != nil {
            r.recordScratchContent(tokens: UInt32(clamping: max(tokens, 0)), reasoning: hasReasoning && !hasAnswer)
        }
    }

    /// `response.completed` or `response.incomplete` arrived.
    public func streamIsComplete(_ response: ResponseAccumulator) -> Bool { response.sawDone }
}
