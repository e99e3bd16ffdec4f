/// The JSON body of `POST /v1/embeddings`, as sent (OpenAI's API reference, "Embeddings: Create embeddings":
/// `model`, `input` as a string, an array of strings, an array of token ids or an array of token-id arrays,
/// optional `encoding_format` (`float` or `base64`), `dimensions` and `user`). `EmbeddingParameters` validates
/// it; `input` is decoded loosely (any element shape) so that validation can name the offending element.
struct EmbeddingRequestBody: Decodable, Sendable {
    var model: String
    var input: Input
    var encodingFormat: String?
    var dimensions: Int?
    /// Accepted and ignored.
    var user: String?

    enum Input: Decodable, Sendable {
        case text(String)
        case list([Item])
        /// Neither a string nor an array.
        case other

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else if let items = try? container.decode([Item].self) {
                self = .list(items)
            } else {
                self = .other
            }
        }
    }

    /// One element of an `input` array.
    enum Item: Decodable, Sendable {
        case text(String)
        case token(Int)
        /// A token-id array; nil where an element is not an integer.
        case tokens([Int?])
        case other

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .text(text)
            } else if let token = try? container.decode(Int.self) {
                self = .token(token)
            } else if let tokens = try? container.decode([TokenID].self) {
                self = .tokens(tokens.map(\.value))
            } else {
                self = .other
            }
        }
    }

    /// An element of a token-id array: its value when it is an integer.
    struct TokenID: Decodable, Sendable {
        var value: Int?

        init(from decoder: any Decoder) throws {
            value = try? decoder.singleValueContainer().decode(Int.self)
        }
    }

    private enum CodingKeys: String, CodingKey {
        case model, input
        case encodingFormat = "encoding_format"
        case dimensions, user
    }
}
