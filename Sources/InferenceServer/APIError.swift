import HTTPTypes

/// An error answered with an OpenAI-style body:
/// `{"error":{"message":…,"type":…,"param":…,"code":…}}`.
public struct APIError: Error, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var message: String
    public var type: String
    public var param: String?
    public var code: String?

    public init(
        status: HTTPResponse.Status, message: String, type: String = "invalid_request_error", param: String? = nil,
        code: String? = nil
    ) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    public static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: .badRequest, message: message, param: param, code: code)
    }

    /// The answer of an engine that serves no embeddings.
    static func embeddingsUnsupported(_ model: String) -> APIError {
        .invalidRequest(
            "The model '\(model)' does not serve embeddings.", param: "model", code: "model_not_supported")
    }

    /// The JSON body.
    public var body: String {
        var out = "{\"error\":{\"message\":"
        JSONText.appendQuoted(message, to: &out)
        out += ",\"type\":"
        JSONText.appendQuoted(type, to: &out)
        out += ",\"param\":"
        if let param { JSONText.appendQuoted(param, to: &out) } else { out += "null" }
        out += ",\"code\":"
        if let code { JSONText.appendQuoted(code, to: &out) } else { out += "null" }
        out += "}}"
        return out
    }
}
