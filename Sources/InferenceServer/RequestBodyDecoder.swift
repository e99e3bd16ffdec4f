import Foundation
import NIOCore

/// Turns a request body into its endpoint's parameters (`CompletionParameters`, `EmbeddingParameters`, …), mapping every decoding failure to a 400 that names the field.
enum RequestBodyDecoder {
    static func chat(_ body: ByteBuffer) throws(APIError) -> CompletionParameters {
        try CompletionParameters(chat: decode(ChatCompletionRequestBody.self, from: body))
    }

    static func completion(_ body: ByteBuffer) throws(APIError) -> CompletionParameters {
        try CompletionParameters(completion: decode(CompletionRequestBody.self, from: body))
    }

    static func messages(_ body: ByteBuffer) throws(APIError) -> MessagesParameters {
        try MessagesParameters(decode(MessagesRequestBody.self, from: body))
    }

    static func responses(_ body: ByteBuffer) throws(APIError) -> ResponsesParameters {
        try ResponsesParameters(decode(ResponsesRequestBody.self, from: body))
    }

    static func embeddings(_ body: ByteBuffer) throws(APIError) -> EmbeddingParameters {
        try EmbeddingParameters(decode(EmbeddingRequestBody.self, from: body))
    }

    static func decode<T: Decodable>(_ type: T.Type, from body: ByteBuffer) throws(APIError) -> T {
        guard body.readableBytes > 0 else {
            throw .invalidRequest("The request body is empty: expected a JSON object.", code: "invalid_json")
        }
        let data = Data(body.readableBytesView)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty,
                (try? JSONSerialization.jsonObject(with: data)) != nil
            {
                // valid JSON, but a value did not fit its field (e.g. 1.5 for an integer); JSONDecoder loses the path here
                throw .invalidRequest(
                    "Invalid value in the request body: \(context.debugDescription)", code: "invalid_value")
            }
            throw apiError(for: error)
        } catch {
            throw .invalidRequest("We could not parse the JSON body of your request.", code: "invalid_json")
        }
    }

    static func apiError(for error: DecodingError) -> APIError {
        switch error {
        case .keyNotFound(let key, let context):
            let param = path(context.codingPath + [key])
            return .invalidRequest(
                "Missing required parameter: '\(param)'.", param: param, code: "missing_required_parameter")
        case .typeMismatch(let type, let context):
            if context.codingPath.isEmpty {
                return .invalidRequest("The request body must be a JSON object.", code: "invalid_json")
            }
            let param = path(context.codingPath)
            return .invalidRequest(
                "Invalid type for '\(param)': expected \(typeName(type)).", param: param, code: "invalid_type")
        case .valueNotFound(let type, let context):
            let param = path(context.codingPath)
            return .invalidRequest(
                "Invalid type for '\(param)': expected \(typeName(type)), but got null.", param: param,
                code: "invalid_type")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return .invalidRequest("We could not parse the JSON body of your request.", code: "invalid_json")
            }
            let param = path(context.codingPath)
            return .invalidRequest("Invalid value for '\(param)'.", param: param, code: "invalid_value")
        @unknown default:
            return .invalidRequest("We could not parse the JSON body of your request.", code: "invalid_json")
        }
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        var out = ""
        for key in codingPath {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                if !out.isEmpty { out += "." }
                out += key.stringValue
            }
        }
        return out
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type: return "an integer"
        case is Double.Type: return "a number"
        case is Bool.Type: return "a boolean"
        default: return String(describing: type).hasPrefix("Array") ? "an array" : "a JSON object"
        }
    }
}
