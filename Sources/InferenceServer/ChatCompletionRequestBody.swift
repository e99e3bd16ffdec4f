/// The JSON body of `POST /v1/chat/completions`, as sent (validation happens in `CompletionParameters`).
struct ChatCompletionRequestBody: Decodable, Sendable {
    var model: String
    var messages: [MessageBody]
    var sampling: SamplingFields

    struct MessageBody: Decodable, Sendable {
        var role: String
        var content: MessageContent?
    }

    /// `content` is a string, an array of parts (`{"type":"text","text":…}`), or null.
    enum MessageContent: Decodable, Sendable {
        case text(String)
        case parts([Part])

        struct Part: Decodable, Sendable {
            var type: String
            var text: String?
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else {
                self = .parts(try container.decode([Part].self))
            }
        }

        var flattened: String {
            switch self {
            case .text(let text): return text
            case .parts(let parts):
                return parts.compactMap { $0.type == "text" ? $0.text : nil }.joined(separator: "\n")
            }
        }
    }

    private enum CodingKeys: String, CodingKey {
        case model, messages
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decode(String.self, forKey: .model)
        messages = try container.decode([MessageBody].self, forKey: .messages)
        sampling = try SamplingFields(from: decoder)
    }
}
