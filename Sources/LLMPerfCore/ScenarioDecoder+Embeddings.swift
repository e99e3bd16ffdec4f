import Foundation

extension ScenarioDecoder {
    /// Inputs per request allowed in one embeddings request (OpenAI's limit on `input` items).
    static let maxBatch = 2048

    /// `batch:` (the embeddings API only), and what an API that generates nothing refuses: it
    /// does not stream (`stream` defaults to false there), and it has no output length,
    /// temperature or usage option.
    func embeddingRules(
        _ node: ScenarioNode, _ path: [String], api: APIKind, into spec: inout WorkloadSpec
    ) throws(ScenarioError) {
        if let batchNode = node["batch"] {
            guard api == .openAIEmbeddings else {
                throw error(
                    .conflict, at: batchNode, path + ["batch"],
                    "sends several inputs in one request: only target.api openai-embeddings takes it, not "
                        + api.rawValue)
            }
            spec.batch = try integer(batchNode, path + ["batch"], minimum: 1)
            guard spec.batch <= Self.maxBatch else {
                throw invalid(batchNode, path + ["batch"], expected: "a whole number from 1 to \(Self.maxBatch)")
            }
        }
        guard !api.generates else { return }
        if let streamNode = node["stream"], spec.stream {
            throw error(
                .conflict, at: streamNode, path + ["stream"],
                "the \(api.rawValue) API answers with one JSON body and does not stream: remove stream or set it to false"
            )
        }
        spec.stream = false
        for key in ["max_tokens", "temperature", "include_usage"] {
            guard let entry = node.entry(key) else { continue }
            throw error(
                .conflict, line: entry.keyLine, column: entry.keyColumn, origin: entry.value.variant, path + [key],
                "the \(api.rawValue) API generates no tokens, so it has no \(key); measure it by latency (total) "
                    + "and input tokens/s, with workload.batch inputs per request")
        }
        if let outputEntry = node["synthetic"]?.entry("output_tokens") {
            throw error(
                .conflict, line: outputEntry.keyLine, column: outputEntry.keyColumn, origin: outputEntry.value.variant,
                path + ["synthetic", "output_tokens"], "the \(api.rawValue) API generates no tokens")
        }
    }
}
