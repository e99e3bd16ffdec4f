import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `POST /v1/messages`: Anthropic's Messages API (https://docs.anthropic.com/en/api/messages) on the chat
/// prompt path. The `anthropic-version` header is accepted and not required; `x-api-key` is checked only
/// when the server has `--api-key`. Errors use Anthropic's shape (`ResponseDialect.anthropic`).
extension OpenAIResponder {
    func messages(
        _ parameters: MessagesParameters, request: Request, context requestContext: Context, arrivalNanos: UInt64
    ) async throws -> Response {
        let completion = parameters.completion
        let (admission, answered) = try await admit(
            completion, dialect: .anthropic, idPrefix: "msg_", request: request, context: requestContext,
            arrivalNanos: arrivalNanos)
        guard let admission else { return answered! }
        let engine = admission.engine
        let prompt = admission.prompt
        let maxTokens = completion.maxTokens ?? engine.defaultMaxTokens(promptTokens: prompt.tokenCount)
        let timeline = RequestTimeline(arrivalNanos: arrivalNanos)
        let generation = GenerationRequest(
            requestID: admission.requestID, prompt: prompt, maxTokens: maxTokens, maxTokensRequested: true,
            temperature: completion.temperature, topP: completion.topP, seed: nil, arrivalNanos: arrivalNanos,
            isChat: true, timeline: timeline)
        timeline.markSubmitted()
        let stream = engine.generate(generation)
        if let refusal = stream.refusal {
            var response = Self.errorResponse(refusal, .anthropic)
            if refusal.status == .tooManyRequests { response.headers[.retryAfter] = "1" }
            response.headers[Self.requestIDHeader] = admission.requestID
            response.headers[Self.anthropicRequestIDHeader] = admission.requestID
            return response
        }
        var headers: HTTPFields = [
            Self.requestIDHeader: admission.requestID, Self.anthropicRequestIDHeader: admission.requestID,
        ]
        for (name, value) in stream.responseHeaders {
            if let name = HTTPField.Name(name) { headers[name] = value }
        }
        let events = AnthropicEvents(id: admission.id, model: engine.modelName, inputTokens: prompt.tokenCount)
        let fault = admission.fault
        if completion.stream {
            headers[.contentType] = fault == .wrongContentType ? "application/json" : "text/event-stream"
            headers[.cacheControl] = "no-cache"
            let writer = AnthropicStreamWriter(
                events: events, stream: stream, stop: completion.stop, promptTokens: prompt.tokenCount,
                arrivalNanos: arrivalNanos, metrics: metrics, trace: trace, traceID: admission.traceID,
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
            stream, stop: completion.stop, promptTokens: prompt.tokenCount, arrivalNanos: arrivalNanos,
            traceID: admission.traceID, fault: fault, headers: headers, timeline: timeline, render: events.body)
    }

    /// A non-streamed answer of a typed-event API (`/v1/messages`, `/v1/responses`): generated whole before
    /// the response starts, rendered as JSON by `render`, counted in `/metrics` and the trace (one `response`
    /// event), and written byte by byte under `drip`.
    func wholeAnswer(
        _ stream: GenerationStream, stop: [String], promptTokens: Int, arrivalNanos: UInt64, traceID: [UInt8],
        fault: ServerFault, headers: HTTPFields, timeline: RequestTimeline? = nil,
        render: (CompletionCollector.Result) -> String
    ) async throws -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        metrics.generationStarted(promptTokens: promptTokens)
        var endNanos = arrivalNanos
        defer { metrics.generationEnded(arrivalNanos: arrivalNanos, endNanos: endNanos) }
        let result = try await CompletionCollector(stream: stream, stop: stop).collect()
        let body = render(result)
        endNanos = MonotonicClock.nowNanos()
        metrics.tokensWritten(
            result.completionTokens, gapNanos: nil, ttftNanos: (result.firstTokenNanos ?? endNanos) &- arrivalNanos)
        if let timeline {
            let phases = timeline.phases(endNanos: endNanos, usage: result.finish.usageDetails)
            metrics.phasesEnded(phases)
            headers[Self.serverTimingHeader] = phases.serverTimingHeader
        }
        trace?.record(requestID: traceID, entries: [.init(index: 0, kind: .response)], nanos: endNanos)
        return jsonAnswer(body, headers: headers, fault: fault)
    }
}
