import LLMPerfCore

/// The sampling and streaming fields both OpenAI request bodies share, chat's reasoning effort
/// and tools (the scenario loader allows them on openai-chat only), then the scenario's
/// `extra_body` fields (the scenario loader refuses any that would repeat a field written here).
enum OpenAIRequestOptions {
    static func write(_ workload: WorkloadSpec, prompt: Prompt, to w: inout JSONBodyWriter) {
        if let maxTokens = workload.maxTokens(for: prompt) {
            w.key("max_tokens")
            w.integer(maxTokens)
        }
        if workload.sendsIgnoreEOS(for: prompt) {
            // The fixed-length flag of vLLM, SGLang and the bundled server.
            w.key("ignore_eos")
            w.bool(true)
        }
        if let temperature = workload.temperature {
            w.key("temperature")
            w.number(temperature)
        }
        if let seed = workload.seed {
            w.key("seed")
            w.integer(seed)
        }
        w.key("stream")
        w.bool(workload.stream)
        if workload.stream && workload.includeUsage {
            w.key("stream_options")
            w.beginObject()
            w.key("include_usage")
            w.bool(true)
            w.endObject()
        }
        if let effort = workload.reasoningEffort {
            w.key("reasoning_effort")
            w.string(effort.rawValue)
        }
        if !workload.tools.isEmpty {
            w.key("tools")
            write(.array(workload.tools), to: &w)
        }
        if let choice = workload.toolChoice {
            w.key("tool_choice")
            write(choice, to: &w)
        }
        write(fields: workload.extraBody, to: &w)
    }

    /// `extra_body`'s fields, each a key and its value, in order.
    static func write(fields: [RequestBodyField], to w: inout JSONBodyWriter) {
        for field in fields {
            w.key(field.key)
            write(field.value, to: &w)
        }
    }

    /// A chat message `{"role": role, "content": content}`.
    static func message(_ role: String, _ content: String, to w: inout JSONBodyWriter) {
        w.beginObject()
        w.key("role")
        w.string(role)
        w.key("content")
        w.string(content)
        w.endObject()
    }

    /// The conversation so far as alternating user and assistant messages, then the user text.
    static func conversation(_ prompt: Prompt, to w: inout JSONBodyWriter) {
        for exchange in prompt.history {
            message("user", exchange.user, to: &w)
            message("assistant", exchange.assistant, to: &w)
        }
        message("user", prompt.user, to: &w)
    }

    static func write(_ value: RequestBodyValue, to w: inout JSONBodyWriter) {
        switch value {
        case .null: w.null()
        case .bool(let flag): w.bool(flag)
        case .integer(let integer): w.integer(integer)
        case .number(let number): w.number(number)
        case .string(let text): w.string(text)
        case .array(let items):
            w.beginArray()
            for item in items { write(item, to: &w) }
            w.endArray()
        case .object(let fields):
            w.beginObject()
            for field in fields {
                w.key(field.key)
                write(field.value, to: &w)
            }
            w.endObject()
        }
    }
}
