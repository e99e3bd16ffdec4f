import LLMPerfCore

/// `POST /v1/embeddings`, OpenAI's Embeddings API (its API reference, "Create embeddings"): the body
/// is `{model, input}`, `input` one string for a single input or an array of strings for a batch
/// (`workload.batch`), each the prompt as a completion endpoint takes it (system text, a blank line,
/// then the user text); then the scenario's `extra_body` fields (`encoding_format`, `dimensions`).
///
/// The answer is one JSON body, never a stream: `{object: "list", data: [{object: "embedding",
/// index, embedding}], model, usage: {prompt_tokens, total_tokens}}`, `embedding` an array of
/// numbers or, with `encoding_format: base64`, a string. An embeddings request generates no
/// tokens: it records no content chunk (so no `ttft` or `e2e`; its latency is `total`), its output
/// count is 0 and its input count `usage.prompt_tokens`. An answer is `decode` when it is not such
/// a list, when an item has no embedding or one of another width, or when it holds another number
/// of embeddings than inputs were sent; `outputText` says how many embeddings of what width came.
public struct OpenAIEmbeddingsDialect: APIDialect {
    public init() {}

    public var kind: APIKind { .openAIEmbeddings }
    public var streamFraming: StreamFraming { .serverSentEvents }

    public func requestBody(prompt: Prompt, workload: WorkloadSpec, model: String) -> [UInt8] {
        requestBody(prompts: [prompt], workload: workload, model: model)
    }

    public func requestBody(prompts: [Prompt], workload: WorkloadSpec, model: String) -> [UInt8] {
        var w = JSONBodyWriter()
        w.beginObject()
        w.key("model")
        w.string(model)
        w.key("input")
        if prompts.count == 1 {
            w.string(prompts[0].completionText)
        } else {
            w.beginArray()
            for prompt in prompts { w.string(prompt.completionText) }
            w.endArray()
        }
        OpenAIRequestOptions.write(fields: workload.extraBody, to: &w)
        w.endObject()
        return w.bytes
    }

    /// A stream is not what this API sends.
    public func decodeStreamEvent(
        name: UnsafeRawBufferPointer, data: UnsafeRawBufferPointer, into r: inout ResponseAccumulator
    ) {
        r.fail(
            .decode,
            "the embeddings API answers with one JSON body, got a server-sent event: "
                + String(decoding: data.prefix(200), as: UTF8.self))
    }

    public func decodeBody(_ body: UnsafeRawBufferPointer, into r: inout ResponseAccumulator) {
        let payload: EmbeddingsPayload
        switch EmbeddingsPayload.scan(body) {
        case .success(let scanned): payload = scanned
        case .failure(let problem):
            r.fail(.decode, problem.reason + ": " + String(decoding: body.prefix(200), as: UTF8.self))
            return
        }
        if let error = payload.error {
            r.fail(.http(status: 500), "error in body: " + error)
            return
        }
        guard payload.count == r.expectedInputs else {
            r.fail(
                .decode,
                "the answer holds \(payload.count) embeddings for \(r.expectedInputs) inputs: "
                    + String(decoding: body.prefix(200), as: UTF8.self))
            return
        }
        r.merge(usage: TokenUsage(promptTokens: payload.promptTokens, completionTokens: 0))
        r.appendText(Array(payload.description.utf8))
        r.markFinished()
        r.markDone()
    }

    public func streamIsComplete(_ response: ResponseAccumulator) -> Bool { response.sawDone }
}
