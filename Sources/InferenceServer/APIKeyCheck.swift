import HTTPTypes

/// `llmperf serve --api-key`: the key every completion endpoint requires when one is set. OpenAI's
/// endpoints (and Ollama's, as a proxy in front of Ollama would) take it as `Authorization: Bearer KEY`, Anthropic's `/v1/messages` as `x-api-key: KEY`; a
/// missing or wrong key is a 401 in the endpoint's own shape. Keys are compared in constant time (the
/// time depends on the configured key's length only), so a client cannot find the key byte by byte.
struct APIKeyCheck: Sendable {
    static let anthropicHeader = HTTPField.Name("x-api-key")!

    private let key: [UInt8]

    init(key: String) {
        self.key = Array(key.utf8)
    }

    /// Throws the 401 for `dialect` unless `headers` carry the key the way that dialect sends it.
    func check(_ headers: HTTPFields, dialect: ResponseDialect) throws(APIError) {
        switch dialect {
        case .openAI, .openAIResponses, .ollama, .llamaCpp, .tgi:
            guard let value = headers[.authorization], let presented = Self.bearerToken(value) else {
                throw APIError(
                    status: .unauthorized,
                    message:
                        "You didn't provide an API key. You need to provide your API key in an Authorization header "
                        + "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                    code: "invalid_api_key")
            }
            guard Self.constantTimeEquals(Array(presented.utf8), key) else {
                throw APIError(status: .unauthorized, message: "Incorrect API key provided.", code: "invalid_api_key")
            }
        case .anthropic:
            guard let presented = headers[Self.anthropicHeader] else {
                throw APIError(status: .unauthorized, message: "x-api-key header is required")
            }
            guard Self.constantTimeEquals(Array(presented.utf8), key) else {
                throw APIError(status: .unauthorized, message: "invalid x-api-key")
            }
        }
    }

    /// The token of `Bearer TOKEN` (the scheme in any case), or nil for another scheme.
    static func bearerToken(_ value: String) -> Substring? {
        let trimmed = value.drop { $0 == " " }
        guard trimmed.count > 7, trimmed.prefix(7).lowercased() == "bearer " else { return nil }
        return trimmed.dropFirst(7).drop { $0 == " " }
    }

    /// True when the bytes are equal; runs over every byte of `expected` whatever `presented` holds.
    static func constantTimeEquals(_ presented: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference: UInt8 = presented.count == expected.count ? 0 : 1
        for index in 0..<expected.count {
            let byte = index < presented.count ? presented[index] : 0
            difference |= byte ^ expected[index]
        }
        return difference == 0
    }
}
