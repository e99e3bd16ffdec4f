import LLMPerfCore

/// `POST /v1/completions`: one prompt string, the system text (when any) first, then a blank
/// line, then the user text.
public struct OpenAICompletionsDialect: OpenAIResponseDecoding {
    public init() {}

    public var kind: APIKind { .openAICompletions }

    public func requestBody(prompt: Prompt, workload: WorkloadSpec, model: String) -> [UInt8] {
        var w = JSONBodyWriter()
        w.beginObject()
        w.key("model")
        w.string(model)
        w.key("prompt")
        w.string(prompt.completionText)
        OpenAIRequestOptions.write(workload, prompt: prompt, to: &w)
        w.endObject()
        return w.bytes
    }
}
