import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `POST /v1/responses`: OpenAI's Responses API on the chat prompt path, streamed (`ResponsesStreamWriter`)
/// or not (`ResponsesEvents.body`). Errors and keys are OpenAI's (`Authorization: Bearer`); the faults that
/// alter chat chunks or `[DONE]` do not apply (`ServerFault.applies(to:)`).
extension OpenAIResponder {
    func responses(
        _ parameters: ResponsesParameters, request: Request, context requestContext: Context, arrivalNanos: UInt64
    ) async throws -> Response {
        let completion = parameters.completion
        let (admission, answered) = try await admit(
            completion, dialect: .openAIResponses, idPrefix: "resp_", request: request, context: requestContext,
            arrivalNanos: arrivalNanos)
        guard let admission else { return answered! }
        let engine = admission.engine
        let prompt = admission.prompt
        let maxTokens = completion.maxTokens ?? engine.defaultMaxTokens(promptTokens: prompt.tokenCount)
        let timeline = RequestTimeline(arrivalNanos: arrivalNanos)
        let generation = GenerationRequest(
            requestID: admission.requestID, prompt: prompt, maxTokens: maxTokens,
            maxTokensRequested: completion.maxTokens != nil, temperature: completion.temperature,
            topP: completion.topP, seed: nil, arrivalNanos: arrivalNanos, isChat: true, timeline: timeline)
        timeline.markSubmitted()
        let stream = engine.generate(generation)
        if let refusal = stream.refusal {
            var response = Self.errorResponse(refusal, .openAIResponses)
            if refusal.status == .tooManyRequests { response.headers[.retryAfter] = "1" }
            response.headers[Self.requestIDHeader] = admission.requestID
            return response
        }
        var headers: HTTPFields = [Self.requestIDHeader: admission.requestID]
        for (name, value) in stream.responseHeaders {
            if let name = HTTPField.Name(name) { headers[name] = value }
        }
        let events = ResponsesEvents(
            id: admission.id, model: engine.modelName, inputTokens: prompt.tokenCount,
            createdAt: Int(Date().timeIntervalSince1970))
        let fault = admission.fault
        if completion.stream {
            headers[.contentType] = fault == .wrongContentType ? "application/json" : "text/event-stream"
            headers[.cacheControl] = "no-cache"
            let writer = ResponsesStreamWriter(
                events: events, stream: stream, promptTokens: prompt.tokenCount, arrivalNanos: arrivalNanos,
                metrics: metrics, trace: trace, traceID: admission.traceID,
                fault: fault == .wrongContentType ? .none : fault, faultConfiguration: faults.configuration,
                connection: requestContext.connection)
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody { bodyWriter in
                    try await writer.write(to: &bodyWriter)
                })
        }
        // Not streamed: generate before answering, so a failure still gets an error status.
        return try await wholeAnswer(
            stream, stop: [], promptTokens: prompt.tokenCount, arrivalNanos: arrivalNanos,
            traceID: admission.traceID, fault: fault, headers: headers, timeline: timeline, render: events.body)
    }
}
