/// The JSON body of `POST /v1/completions`, as sent.
struct CompletionRequestBody: Decodable, Sendable {
    var model: String
    var prompt: PromptValue
    var sampling: SamplingFields

    /// `prompt` is a string or an array of strings (a batch; one element is accepted) or token ids (rejected).
    enum PromptValue: Decodable, Sendable {
        case text(String)
        case texts([String])
        case tokenIDs

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else if let texts = try? container.decode([String].self) {
                self = .texts(texts)
            } else if (try? container.decode([Int].self)) != nil || (try? container.decode([[Int]].self)) != nil {
                self = .tokenIDs
            } else {
                throw DecodingError.typeMismatch(
                    String.self,
                    DecodingError.Context(codingPath: decoder.codingPath, debugDescription: "expected a string"))
            }
        }
    }

    private enum CodingKeys: String, CodingKey {
        case model, prompt
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decode(String.self, forKey: .model)
        prompt = try container.decode(PromptValue.self, forKey: .prompt)
        sampling = try SamplingFields(from: decoder)
    }
}
