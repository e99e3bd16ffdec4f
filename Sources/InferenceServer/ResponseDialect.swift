import HTTPTypes

/// Which API's shapes an endpoint answers in: OpenAI's (`/v1/chat/completions`, `/v1/completions`, and
/// everything else), OpenAI's Responses API (`/v1/responses`), Anthropic's Messages API (`/v1/messages`),
/// Ollama's native API (`/api/chat`, `/api/generate`), llama.cpp's native `/completion`, or TGI's `/generate`
/// and `/generate_stream`. The same `APIError` renders in each.
enum ResponseDialect: Sendable, Equatable {
    case openAI
    case anthropic
    /// OpenAI's Responses API (`/v1/responses`): OpenAI's error shape and Bearer keys, its own stream events.
    case openAIResponses
    case ollama
    case llamaCpp
    case tgi
}

extension APIError {
    /// HTTP 529, which Anthropic answers with `overloaded_error` when its API is overloaded.
    static let overloadedStatus = HTTPResponse.Status(code: 529, reasonPhrase: "Overloaded")

    /// Anthropic's error type for this error's status, as its errors reference lists them
    /// (https://docs.anthropic.com/en/api/errors): 400 `invalid_request_error` (also used for other 4xx),
    /// 401 `authentication_error`, 403 `permission_error`, 404 `not_found_error`, 413 `request_too_large`,
    /// 429 `rate_limit_error`, 500 `api_error` (other 5xx too), 529 `overloaded_error`. A 503 (the model is
    /// loading, or the server is shutting down) is `overloaded_error` as well: the server cannot take the
    /// request now and a retry later may succeed.
    var anthropicType: String {
        switch status.code {
        case 401: return "authentication_error"
        case 403: return "permission_error"
        case 404: return "not_found_error"
        case 413: return "request_too_large"
        case 429: return "rate_limit_error"
        case 503, 529: return "overloaded_error"
        case 400..<500: return "invalid_request_error"
        default: return "api_error"
        }
    }

    /// `{"type":"error","error":{"type":…,"message":…}}`: Anthropic's error body, also the data of a
    /// stream's `error` event.
    var anthropicBody: String {
        Self.anthropicBody(type: anthropicType, message: message)
    }

    static func anthropicBody(type: String, message: String) -> String {
        var out = "{\"type\":\"error\",\"error\":{\"type\":"
        JSONText.appendQuoted(type, to: &out)
        out += ",\"message\":"
        JSONText.appendQuoted(message, to: &out)
        out += "}}"
        return out
    }

    /// `{"error":"…"}`: Ollama's error body, also a line of its stream.
    var ollamaBody: String {
        var out = "{\"error\":"
        JSONText.appendQuoted(message, to: &out)
        out += "}"
        return out
    }

    /// The body in `dialect`'s shape.
    func body(in dialect: ResponseDialect) -> String {
        switch dialect {
        case .openAI, .openAIResponses: return body
        case .anthropic: return anthropicBody
        case .ollama: return ollamaBody
        case .llamaCpp: return llamaCppBody
        case .tgi: return tgiBody
        }
    }

    /// The status in `dialect`'s terms: TGI answers a request it cannot validate with 422, not 400.
    func status(in dialect: ResponseDialect) -> HTTPResponse.Status {
        dialect == .tgi && status == .badRequest ? .unprocessableContent : status
    }

    /// llama.cpp's error type for this error's status (llama-server's error types: invalid_request_error,
    /// authentication_error, not_found_error, permission_error, server_error, unavailable_error).
    var llamaCppType: String {
        switch status.code {
        case 401: return "authentication_error"
        case 403: return "permission_error"
        case 404: return "not_found_error"
        case 503: return "unavailable_error"
        case 400..<500: return "invalid_request_error"
        default: return "server_error"
        }
    }

    /// `{"error":{"code":…,"message":…,"type":…}}`: llama.cpp's error body, also the data of a stream's
    /// error event.
    var llamaCppBody: String {
        var out = "{\"error\":{\"code\":\(status.code),\"message\":"
        JSONText.appendQuoted(message, to: &out)
        out += ",\"type\":"
        JSONText.appendQuoted(llamaCppType, to: &out)
        out += "}}"
        return out
    }

    /// TGI's error type for this error's status: 422 `validation`, 424 `generation`, 429 and 503
    /// `overloaded`, 500 `incomplete_generation`; `validation` for other 4xx, `generation` for other 5xx.
    var tgiType: String {
        switch status(in: .tgi).code {
        case 429, 503: return "overloaded"
        case 500: return "incomplete_generation"
        case 400..<500: return "validation"
        default: return "generation"
        }
    }

    /// `{"error":…,"error_type":…}`: TGI's error body, also the data of a stream's error event.
    var tgiBody: String {
        var out = "{\"error\":"
        JSONText.appendQuoted(message, to: &out)
        out += ",\"error_type\":"
        JSONText.appendQuoted(tgiType, to: &out)
        out += "}"
        return out
    }
}
