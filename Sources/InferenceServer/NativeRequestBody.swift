import Foundation
import NIOCore

/// `POST /completion`, llama.cpp's native request (llama-server's README, "POST /completion"): `prompt`
/// (a string; token arrays and multiple prompts are refused), `n_predict` (-1, or absent, for the engine's
/// default length), `stream`, `temperature`, `top_p`, `seed` (-1 for a random one), `ignore_eos`. Other
/// fields (`cache_prompt`, `top_k`, …) are accepted and ignored; `stop` is refused, since this server does
/// not apply stop sequences on its native endpoints.
struct LlamaCompletionRequestBody: Decodable {
    var prompt: String
    var n_predict: Int?
    var stream: Bool?
    var temperature: Double?
    var top_p: Double?
    var seed: Int64?
    var ignore_eos: Bool?
    var stop: [String]?
}

/// `POST /generate` and `POST /generate_stream`, TGI's native request (its OpenAPI, GenerateRequest):
/// `inputs` and `parameters` (`max_new_tokens`, `temperature` > 0, `top_p` in (0, 1), `seed`, `details`,
/// `decoder_input_details`, `do_sample`). Other parameters are accepted and ignored; `stop` is refused as
/// on `/completion`.
struct TGIRequestBody: Decodable {
    struct Parameters: Decodable {
        var max_new_tokens: Int?
        var temperature: Double?
        var top_p: Double?
        var seed: UInt64?
        var details: Bool?
        var do_sample: Bool?
        var stop: [String]?
    }

    var inputs: String
    var parameters: Parameters?
}

/// What a native request asks for, on the completion prompt path.
struct NativeParameters: Sendable {
    var completion: CompletionParameters
    /// TGI's `parameters.details`: whether the answer carries `details`.
    var details: Bool
}

extension RequestBodyDecoder {
    static func llamaCompletion(_ body: ByteBuffer) throws(APIError) -> NativeParameters {
        let request = try decode(LlamaCompletionRequestBody.self, from: body)
        var maxTokens: Int?
        if let n = request.n_predict, n != -1 {
            guard n >= 1 else {
                throw .invalidRequest(
                    "Invalid 'n_predict': expected -1 (no limit) or a value >= 1, but got \(n).", param: "n_predict",
                    code: "invalid_value")
            }
            maxTokens = n
        }
        if let temperature = request.temperature, !(0...2).contains(temperature) {
            throw .invalidRequest(
                "Invalid 'temperature': expected a value between 0 and 2, but got \(temperature).",
                param: "temperature", code: "invalid_value")
        }
        if let topP = request.top_p, !(0...1).contains(topP) {
            throw .invalidRequest(
                "Invalid 'top_p': expected a value between 0 and 1, but got \(topP).", param: "top_p",
                code: "invalid_value")
        }
        if let stop = request.stop, !stop.isEmpty {
            throw .invalidRequest(
                "'stop' is not supported on /completion by this server.", param: "stop", code: "unsupported_value")
        }
        let seed = request.seed.flatMap { $0 < 0 ? nil : UInt64($0) }
        return NativeParameters(
            completion: CompletionParameters(
                native: request.prompt, maxTokens: maxTokens, stream: request.stream ?? false,
                temperature: request.temperature, topP: request.top_p, seed: seed,
                ignoreEOS: request.ignore_eos ?? false),
            details: true)
    }

    /// TGI validates with 422 and messages naming the parameter in backquotes.
    static func tgiGenerate(_ body: ByteBuffer, stream: Bool) throws(APIError) -> NativeParameters {
        let request = try decode(TGIRequestBody.self, from: body)
        let parameters = request.parameters
        func invalid(_ message: String, _ param: String) -> APIError {
            APIError(status: .unprocessableContent, message: message, type: "validation", param: param)
        }
        guard !request.inputs.isEmpty else { throw invalid("`inputs` cannot be empty", "inputs") }
        if let n = parameters?.max_new_tokens, n < 1 {
            throw invalid("`max_new_tokens` must be strictly positive", "parameters.max_new_tokens")
        }
        if let temperature = parameters?.temperature, !(temperature > 0 && temperature <= 2) {
            throw invalid(
                "`temperature` must be strictly positive (and at most 2 on this server)", "parameters.temperature")
        }
        if let topP = parameters?.top_p, !(topP > 0 && topP < 1) {
            throw invalid("`top_p` must be > 0.0 and < 1.0", "parameters.top_p")
        }
        if let stop = parameters?.stop, !stop.isEmpty {
            throw invalid("`stop` is not supported by this server", "parameters.stop")
        }
        return NativeParameters(
            completion: CompletionParameters(
                native: request.inputs, maxTokens: parameters?.max_new_tokens, stream: stream,
                temperature: parameters?.temperature, topP: parameters?.top_p, seed: parameters?.seed,
                ignoreEOS: false),
            details: parameters?.details ?? false)
    }
}

extension CompletionParameters {
    /// A native request (llama.cpp, TGI) on the completion prompt path. These APIs name no model: the
    /// responder fills in the served one.
    init(
        native prompt: String, maxTokens: Int?, stream: Bool, temperature: Double?, topP: Double?, seed: UInt64?,
        ignoreEOS: Bool
    ) {
        endpoint = .completion
        model = ""
        input = .completion(prompt)
        self.maxTokens = maxTokens
        self.stream = stream
        includeUsage = false
        self.temperature = temperature
        self.topP = topP
        self.seed = seed
        stop = []
        self.ignoreEOS = ignoreEOS
    }
}
