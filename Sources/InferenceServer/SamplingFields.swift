/// The generation fields both endpoints share, as sent.
struct SamplingFields: Decodable, Sendable {
    var maxTokens: Int?
    var maxCompletionTokens: Int?
    var stream: Bool?
    var streamOptions: StreamOptions?
    var temperature: Double?
    var topP: Double?
    var seed: Int?
    var stop: StopValue?
    var n: Int?
    /// vLLM's extension: keep generating past end-of-sequence tokens (fixed-length answers for benchmarks).
    var ignoreEOS: Bool?

    struct StreamOptions: Decodable, Sendable {
        var includeUsage: Bool?

        private enum CodingKeys: String, CodingKey {
            case includeUsage = "include_usage"
        }
    }

    /// `stop` is a string or an array of strings.
    enum StopValue: Decodable, Sendable {
        case one(String)
        case many([String])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let one = try? container.decode(String.self) {
                self = .one(one)
            } else {
                self = .many(try container.decode([String].self))
            }
        }

        var sequences: [String] {
            switch self {
            case .one(let one): return [one]
            case .many(let many): return many
            }
        }
    }

    private enum CodingKeys: String, CodingKey {
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
        case stream
        case streamOptions = "stream_options"
        case temperature
        case topP = "top_p"
        case seed, stop, n
        case ignoreEOS = "ignore_eos"
    }
}
