import Foundation
import HTTPTypes
import Hummingbird
import InferenceEngine
import NIOCore

/// `POST /v1/embeddings`: OpenAI's Embeddings API (its API reference, "Embeddings: Create embeddings"), never
/// streamed. The checks run in the order of the completion endpoints (fault header, engine, model, then the
/// model-dependent ones: `dimensions` against the width, each input tokenized and held to the context), then the
/// fault is drawn and the arrival traced; the engine answers one vector per input, in order. Errors and keys are
/// OpenAI's. Faults: the HTTP-level ones (429, 500, the HTML 503, the reset before the response) and `drip`, as
/// for a non-streamed chat request; the stream faults get a healthy answer.
extension OpenAIResponder {
    func embeddings(
        _ parameters: EmbeddingParameters, request: Request, context requestContext: Context, arrivalNanos: UInt64
    ) async throws -> Response {
        let requestedFault = try requestedFault(in: request)
        let engine = try servingEngine(for: parameters.model)
        let width = engine.embeddingWidth
        guard width > 0 else { throw APIError.embeddingsUnsupported(engine.modelName) }
        if let dimensions = parameters.dimensions, dimensions > width {
            throw APIError.invalidRequest(
                "Invalid value for 'dimensions': \(dimensions); this model's embeddings have \(width) dimensions.",
                param: "dimensions", code: "invalid_value")
        }
        let context = engine.contextLength
        var prompts: [PreparedPrompt] = []
        prompts.reserveCapacity(parameters.inputs.count)
        for input in parameters.inputs {
            let prompt: PreparedPrompt
            do {
                prompt = try engine.prepareEmbedding(input)
            } catch let error as APIError {
                throw error
            } catch {
                throw APIError.invalidRequest("'\(input.param)' could not be tokenized: \(error)", param: input.param)
            }
            guard prompt.tokenCount <= context else {
                throw APIError.invalidRequest(
                    "This model's maximum context length is \(context) tokens. However, '\(input.param)' has "
                        + "\(prompt.tokenCount) tokens.", param: input.param, code: "context_length_exceeded")
            }
            prompts.append(prompt)
        }
        let promptTokens = prompts.reduce(0) { $0 + $1.tokenCount }
        let requestID = self.requestID(request, fallback: "emb-" + Self.randomHex(24))
        let traceID = TraceRecorder.sanitize(requestID)
        let fault = try drawFault(requestedFault, dialect: .openAI, stream: false, path: request.uri.path)
        traceArrival(traceID: traceID, fault: fault, context: requestContext, arrivalNanos: arrivalNanos)
        if fault != .none,
            let response = try await immediateFault(
                fault, dialect: .openAI, stream: false, requestID: requestID, context: requestContext)
        {
            return response
        }

        metrics.generationStarted(promptTokens: promptTokens)
        var endNanos = arrivalNanos
        defer { metrics.generationEnded(arrivalNanos: arrivalNanos, endNanos: endNanos) }
        var vectors = try await engine.embed(EmbeddingRequest(prompts: prompts, arrivalNanos: arrivalNanos))
        if let dimensions = parameters.dimensions {
            vectors = vectors.map { EmbeddingVector.truncated($0, to: dimensions) }
        }
        let body = EmbeddingResponseBody.render(
            vectors: vectors, model: engine.modelName, promptTokens: promptTokens, encoding: parameters.encoding)
        endNanos = MonotonicClock.nowNanos()
        trace?.record(requestID: traceID, entries: [.init(index: 0, kind: .response)], nanos: endNanos)
        return jsonAnswer(body, headers: [Self.requestIDHeader: requestID], fault: fault)
    }
}
