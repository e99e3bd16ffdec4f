import LLMPerfCore

/// `POST /v1/chat/completions`: messages (an optional system message, then the user's).
public struct OpenAIChatDialect: OpenAIResponseDecoding {
    public init() {}

    public var kind: APIKind { .openAIChat }

    public func requestBody(prompt: Prompt, workload: WorkloadSpec, model: String) -> [UInt8] {
        var w = JSONBodyWriter()
        w.beginObject()
        w.key("model")
        w.string(model)
        w.key("messages")
        w.beginArray()
        if let system = prompt.system {
            w.beginObject()
            w.key("role")
            w.string("system")
            w.key("content")
            w.string(system)
            w.endObject()
        }
        OpenAIRequestOptions.conversation(prompt, to: &w)
        w.endArray()
        OpenAIRequestOptions.write(workload, prompt: prompt, to: &w)
        w.endObject()
        return w.bytes
    }
}
