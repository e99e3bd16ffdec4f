import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `POST /api/chat` and `POST /api/generate`: Ollama's native API (github.com/ollama/ollama docs/api.md) on
/// the chat and text prompt paths. Streams (the default, as Ollama's) are NDJSON
/// (`application/x-ndjson`, `OllamaStreamWriter`); `"stream": false` answers one JSON object. Errors are
/// Ollama's `{"error":"…"}` with the status (`ResponseDialect.ollama`).
///
/// The synthetic engine reasons (`--reasoning-tokens`) on `/api/chat` whatever `think` says, as it does on
/// the other chat endpoints; the reasoning goes out as `thinking`. `/api/generate` answers plain text.
extension OpenAIResponder {
    static let ndjsonContentType = "application/x-ndjson"

    func ollama(
        _ parameters: OllamaParameters, request: Request, context requestContext: Context, arrivalNanos: UInt64
    ) async throws -> Response {
        let completion = parameters.completion
        let (admission, answered) = try await admit(
            completion, dialect: .ollama, idPrefix: "ollama-", request: request, context: requestContext,
            arrivalNanos: arrivalNanos)
        guard let admission else { return answered! }
        let engine = admission.engine
        let prompt = admission.prompt
        let generation = GenerationRequest(
            requestID: admission.requestID, prompt: prompt,
            maxTokens: completion.maxTokens ?? engine.defaultMaxTokens(promptTokens: prompt.tokenCount),
            maxTokensRequested: completion.maxTokens != nil, temperature: completion.temperature,
            topP: completion.topP, seed: completion.seed, arrivalNanos: arrivalNanos, isChat: parameters.isChat)
        let stream = engine.generate(generation)
        if let refusal = stream.refusal {
            var response = Self.errorResponse(refusal, .ollama)
            if refusal.status == .tooManyRequests { response.headers[.retryAfter] = "1" }
            response.headers[Self.requestIDHeader] = admission.requestID
            return response
        }
        var headers: HTTPFields = [Self.requestIDHeader: admission.requestID]
        for (name, value) in stream.responseHeaders {
            if let name = HTTPField.Name(name) { headers[name] = value }
        }
        let lines = OllamaLines(model: engine.modelName, isChat: parameters.isChat)
        let fault = admission.fault
        if completion.stream {
            headers[.contentType] = Self.ndjsonContentType
            let writer = OllamaStreamWriter(
                lines: lines, stream: stream, stop: completion.stop, promptTokens: prompt.tokenCount,
                arrivalNanos: arrivalNanos, metrics: metrics, trace: trace, traceID: admission.traceID, fault: fault,
                faultConfiguration: faults.configuration, connection: requestContext.connection)
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody { bodyWriter in
                    try await writer.write(to: &bodyWriter)
                })
        }
        // Not streamed: generate before answering, so a failure still gets an error status.
        metrics.generationStarted(promptTokens: prompt.tokenCount)
        var endNanos = arrivalNanos
        defer { metrics.generationEnded(arrivalNanos: arrivalNanos, endNanos: endNanos) }
        let result = try await CompletionCollector(stream: stream, stop: completion.stop).collect()
        endNanos = MonotonicClock.nowNanos()
        // As streamed: a tool call counts as one (its line).
        let evalCount = result.toolCall == nil ? result.completionTokens : result.reasoningTokens + 1
        let body = lines.body(
            text: result.text, thinking: result.reasoning,
            toolCall: result.toolCall.map { ($0.name, $0.arguments) },
            final: OllamaLines.Final(
                doneReason: OllamaLines.doneReason(result.finish.reason), promptTokens: prompt.tokenCount,
                evalCount: evalCount, arrivalNanos: arrivalNanos, firstTokenNanos: result.firstTokenNanos ?? endNanos,
                endNanos: endNanos))
        metrics.tokensWritten(
            result.completionTokens, gapNanos: nil, ttftNanos: (result.firstTokenNanos ?? endNanos) &- arrivalNanos)
        trace?.record(requestID: admission.traceID, entries: [.init(index: 0, kind: .response)], nanos: endNanos)
        return jsonAnswer(body, headers: headers, fault: fault, contentType: "application/json; charset=utf-8")
    }
}
