/// One text to embed, as the request gave it: raw text (tokenized without a chat template) or token ids.
public struct EmbeddingInput: Sendable, Equatable {
    public enum Content: Sendable, Equatable {
        case text(String)
        case tokens([Int32])
    }

    public var content: Content
    /// Where it is in the request (`input`, `input[2]`), for error messages.
    public var param: String

    public init(_ content: Content, param: String) {
        self.content = content
        self.param = param
    }
}

/// How the vectors are written: JSON numbers, or base64 of their little-endian float32 bytes.
enum EmbeddingEncoding: String, Sendable {
    case float, base64
}

/// A validated `POST /v1/embeddings` request. Every refusal is a 400 naming the field: an empty string or
/// array, more than `maxInputs` inputs, elements of different kinds, a non-integer or negative token id, an
/// unknown `encoding_format`, `dimensions` below 1. What depends on the model (a token id beyond its
/// vocabulary, an input beyond its context, `dimensions` above its width) is checked when the engine is known.
struct EmbeddingParameters: Sendable {
    /// OpenAI's limit on the inputs of one request.
    static let maxInputs = 2048

    var model: String
    var inputs: [EmbeddingInput]
    var encoding: EmbeddingEncoding
    var dimensions: Int?

    init(_ body: EmbeddingRequestBody) throws(APIError) {
        model = body.model
        switch body.input {
        case .text(let text):
            guard !text.isEmpty else { throw .invalidRequest("'input' cannot be an empty string.", param: "input") }
            inputs = [EmbeddingInput(.text(text), param: "input")]
        case .other:
            throw .invalidRequest(
                "Invalid type for 'input': expected a string, an array of strings, an array of token ids or an "
                    + "array of token-id arrays.", param: "input", code: "invalid_type")
        case .list(let items):
            inputs = try Self.inputs(items)
        }
        if let format = body.encodingFormat {
            guard let encoding = EmbeddingEncoding(rawValue: format) else {
                throw .invalidRequest(
                    "Invalid value for 'encoding_format': '\(format)'; expected 'float' or 'base64'.",
                    param: "encoding_format", code: "invalid_value")
            }
            self.encoding = encoding
        } else {
            encoding = .float
        }
        if let dimensions = body.dimensions, dimensions < 1 {
            throw .invalidRequest(
                "Invalid value for 'dimensions': \(dimensions); expected at least 1.", param: "dimensions",
                code: "invalid_value")
        }
        dimensions = body.dimensions
    }

    /// The inputs of an `input` array: all strings, all token ids (one input), or all token-id arrays.
    private static func inputs(_ items: [EmbeddingRequestBody.Item]) throws(APIError) -> [EmbeddingInput] {
        guard !items.isEmpty else { throw .invalidRequest("'input' cannot be an empty array.", param: "input") }
        guard items.count <= maxInputs else {
            throw .invalidRequest(
                "'input' has \(items.count) elements; at most \(maxInputs) are allowed.", param: "input",
                code: "invalid_value")
        }
        let expected: String
        switch items[0] {
        case .text: expected = "a string"
        case .token: expected = "a token id (an integer)"
        case .tokens: expected = "an array of token ids"
        case .other:
            throw .invalidRequest(
                "Invalid type for 'input[0]': expected a string, a token id or an array of token ids.",
                param: "input[0]", code: "invalid_type")
        }
        var inputs: [EmbeddingInput] = []
        var tokens: [Int32] = []
        for (index, item) in items.enumerated() {
            let param = "input[\(index)]"
            switch (items[0], item) {
            case (.text, .text(let text)):
                guard !text.isEmpty else {
                    throw .invalidRequest("'\(param)' cannot be an empty string.", param: param)
                }
                inputs.append(EmbeddingInput(.text(text), param: param))
            case (.token, .token(let token)):
                tokens.append(try tokenID(token, param: param))
            case (.tokens, .tokens(let values)):
                guard !values.isEmpty else {
                    throw .invalidRequest("'\(param)' cannot be an empty array.", param: param)
                }
                var ids: [Int32] = []
                ids.reserveCapacity(values.count)
                for (position, value) in values.enumerated() {
                    let path = "\(param)[\(position)]"
                    guard let value else {
                        throw .invalidRequest(
                            "Invalid type for '\(path)': expected a token id (an integer).", param: path,
                            code: "invalid_type")
                    }
                    ids.append(try tokenID(value, param: path))
                }
                inputs.append(EmbeddingInput(.tokens(ids), param: param))
            default:
                throw .invalidRequest(
                    "Invalid type for '\(param)': expected \(expected), as 'input[0]' is.", param: param,
                    code: "invalid_type")
            }
        }
        if !tokens.isEmpty { inputs = [EmbeddingInput(.tokens(tokens), param: "input")] }
        return inputs
    }

    private static func tokenID(_ value: Int, param: String) throws(APIError) -> Int32 {
        guard value >= 0, value <= Int(Int32.max) else {
            throw .invalidRequest(
                "Invalid token id \(value) in '\(param)': token ids are non-negative integers.", param: param,
                code: "invalid_value")
        }
        return Int32(value)
    }
}
