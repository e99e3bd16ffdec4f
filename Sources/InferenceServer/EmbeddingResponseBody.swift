import Foundation

/// The JSON answer of `POST /v1/embeddings` (OpenAI's API reference, "Embeddings: The embedding object"):
/// `{"object":"list","data":[{"object":"embedding","index":i,"embedding":…}],"model":…,"usage":{"prompt_tokens":N,
/// "total_tokens":N}}`, one entry per input in input order. An embedding is an array of numbers, or under
/// `base64` one string: the base64 of its values as little-endian float32 bytes.
enum EmbeddingResponseBody {
    static func render(vectors: [[Float]], model: String, promptTokens: Int, encoding: EmbeddingEncoding) -> String {
        var out = "{\"object\":\"list\",\"data\":["
        for (index, vector) in vectors.enumerated() {
            if index > 0 { out += "," }
            out += "{\"object\":\"embedding\",\"index\":\(index),\"embedding\":"
            switch encoding {
            case .float: appendNumbers(vector, to: &out)
            case .base64: out += "\"" + base64(vector) + "\""
            }
            out += "}"
        }
        out += "],\"model\":"
        JSONText.appendQuoted(model, to: &out)
        out += ",\"usage\":{\"prompt_tokens\":\(promptTokens),\"total_tokens\":\(promptTokens)}}"
        return out
    }

    /// `[v0,v1,…]`, each the shortest text that reads back as the same float (a non-finite value as 0).
    static func appendNumbers(_ vector: [Float], to out: inout String) {
        out += "["
        for (index, value) in vector.enumerated() {
            if index > 0 { out += "," }
            out += value.isFinite ? value.description : "0"
        }
        out += "]"
    }

    /// The values as little-endian IEEE 754 float32 bytes, in base64.
    static func base64(_ vector: [Float]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(vector.count * 4)
        for value in vector {
            let bits = value.bitPattern
            for shift in stride(from: 0, to: 32, by: 8) {
                bytes.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift)))
            }
        }
        return Data(bytes).base64EncodedString()
    }
}
