/// `usage` as sent to the client: the server counts tokens, the engine adds details.
struct CompletionUsage: Sendable, Equatable {
    var promptTokens: Int
    var completionTokens: Int
    var details: UsageDetails
    /// Reasoning tokens among `completionTokens` (`completion_tokens_details.reasoning_tokens`, as OpenAI
    /// reports them); nil leaves the field out.
    var reasoningTokens: Int? = nil

    var totalTokens: Int { promptTokens + completionTokens }

    /// `{"prompt_tokens":…,"completion_tokens":…,"total_tokens":…[,"prompt_tokens_details":{"cached_tokens":…}]`
    /// `[,"completion_tokens_details":{"reasoning_tokens":…}][,extra…]}`
    var json: String {
        var out =
            "{\"prompt_tokens\":\(promptTokens),\"completion_tokens\":\(completionTokens),\"total_tokens\":\(totalTokens)"
        if let cached = details.cachedPromptTokens {
            out += ",\"prompt_tokens_details\":{\"cached_tokens\":\(cached)}"
        }
        if let reasoningTokens {
            out += ",\"completion_tokens_details\":{\"reasoning_tokens\":\(reasoningTokens)}"
        }
        for key in details.extra.keys.sorted() {
            out += ","
            JSONText.appendQuoted(key, to: &out)
            out += ":\(details.extra[key]!)"
        }
        out += "}"
        return out
    }
}
