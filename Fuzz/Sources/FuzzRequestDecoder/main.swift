import FuzzDriver
import HTTPTypes
import NIOCore

/// libFuzzer entry: the input is a request body, decoded as each endpoint's body (chat,
/// completions, Anthropic's messages, OpenAI's responses and embeddings, Ollama's chat and generate,
/// llama.cpp's completion and TGI's generate) by the server's own decoder (its sources are compiled into
/// this target). Every input must either decode into parameters that passed validation or be
/// refused with a 400 `APIError` whose JSON body is well formed; never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequestDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: size))
    check { () throws(APIError) in try RequestBodyDecoder.chat(body) }
    check { () throws(APIError) in try RequestBodyDecoder.completion(body) }
    // Anthropic's API sets no limit on stop_sequences
    check(stopLimit: .max) { () throws(APIError) in
        let messages = try RequestBodyDecoder.messages(body)
        precondition(messages.completion.maxTokens.map { $0 >= 1 } ?? false, "messages without max_tokens accepted")
        precondition(messages.completion.temperature.map { (0...1).contains($0) } ?? true, "temperature above 1")
        if let budget = messages.thinkingBudget {
            precondition(budget >= 1024 && budget < messages.completion.maxTokens!, "thinking budget \(budget)")
        }
        return messages.completion
    }
    check { () throws(APIError) in
        let responses = try RequestBodyDecoder.responses(body)
        guard case .chat(let conversation) = responses.completion.input else {
            preconditionFailure("a responses request became a text completion")
        }
        precondition(conversation.contains { $0.role == "user" || $0.role == "assistant" }, "no message accepted")
        return responses.completion
    }
    checkEmbeddings(body)
    // Ollama's /api/chat and /api/generate (options.stop has no limit), llama.cpp's /completion and TGI's
    // /generate_stream and /generate (stop refused there).
    check(stopLimit: .max) { () throws(APIError) in try RequestBodyDecoder.ollama(body, chat: true).completion }
    check(stopLimit: .max) { () throws(APIError) in try RequestBodyDecoder.ollama(body, chat: false).completion }
    check(stopLimit: 0) { () throws(APIError) in try RequestBodyDecoder.llamaCompletion(body).completion }
    // TGI refuses a bad parameter with 422, as TGI does.
    check(stopLimit: 0, refusals: [.badRequest, .unprocessableContent]) { () throws(APIError) in
        try RequestBodyDecoder.tgiGenerate(body, stream: true).completion
    }
    return 0
}

/// `/v1/embeddings`: accepted inputs are 1 to 2048 non-empty strings or token-id arrays (ids non-negative),
/// `dimensions` at least 1; a refusal is a 400 with a JSON body.
func checkEmbeddings(_ body: ByteBuffer) {
    do {
        let parameters = try RequestBodyDecoder.embeddings(body)
        precondition((1...EmbeddingParameters.maxInputs).contains(parameters.inputs.count), "input count")
        for input in parameters.inputs {
            switch input.content {
            case .text(let text): precondition(!text.isEmpty, "an empty input accepted")
            case .tokens(let ids): precondition(!ids.isEmpty && ids.allSatisfy { $0 >= 0 }, "token ids \(ids)")
            }
        }
        precondition(parameters.dimensions.map { $0 >= 1 } ?? true, "dimensions below 1 accepted")
    } catch {
        precondition(error.status == .badRequest, "a refused body must be a 400, got \(error.status)")
        precondition(error.body.hasPrefix("{\"error\":{\"message\":"), "error body \(error.body)")
    }
}

/// One decoding: accepted parameters passed validation; a refusal is a 400 (or one of `refusals`) with a JSON
/// body.
func check(
    stopLimit: Int = 4, refusals: Set<HTTPResponse.Status> = [.badRequest],
    _ decode: () throws(APIError) -> CompletionParameters
) {
    do {
        let parameters = try decode()
        precondition(parameters.maxTokens.map { $0 >= 1 } ?? true, "max_tokens below 1 accepted")
        precondition(parameters.temperature.map { (0...2).contains($0) } ?? true, "temperature out of range")
        precondition(parameters.topP.map { (0...1).contains($0) } ?? true, "top_p out of range")
        precondition(parameters.stop.count <= stopLimit, "more than \(stopLimit) stop sequences accepted")
    } catch {
        precondition(refusals.contains(error.status), "a refused body must be one of \(refusals), got \(error.status)")
        precondition(error.body.hasPrefix("{\"error\":{\"message\":"), "error body \(error.body)")
    }
}

/// The executable's entry point (SwiftPM's name for it): libFuzzer with this target's input.
@_cdecl("FuzzRequestDecoder_main")
public func fuzzRequestDecoderMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    llmperf_fuzz_main(argc, argv) { data, size in
        guard let data else { return 0 }
        return fuzzRequestDecoder(data, size)
    }
}
