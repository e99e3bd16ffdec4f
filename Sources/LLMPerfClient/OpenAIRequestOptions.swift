import LLMPerfCore

/// The sampling and streaming fields both OpenAI request bodies share.
enum OpenAIRequestOptions {
    static func write(_ workload: WorkloadSpec, to w: inout JSONBodyWriter) {
        if let maxTokens = workload.maxTokens {
            w.key("max_tokens")
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
        w.key("stream")
        w.bool(workload.stream)
        if workload.stream && workload.includeUsage {
            w.key("stream_options")
            w.beginObject()
            w.key("include_usage")
            w.bool(true)
            w.endObject()
        }
    }
}
