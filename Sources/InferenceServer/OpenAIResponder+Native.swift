import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// llama.cpp's `POST /completion` and TGI's `POST /generate_stream` and `POST /generate` on the completion
/// prompt path (see `NativeEvents` for the shapes). These APIs name no model: the served one answers. Errors
/// use each server's own shape; the HTTP-level faults apply, the stream faults are refused with the
/// endpoint's 400 (TGI: 422).
extension OpenAIResponder {
    func native(
        _ native: NativeParameters, dialect: ResponseDialect, request: Request, context requestContext: Context,
        arrivalNanos: UInt64
    ) async throws -> Response {
        var completion = native.completion
        completion.model = try readyEngine().modelName
        let (admission, answered) = try await admit(
            completion, dialect: dialect, idPrefix: dialect == .tgi ? "tgi-" : "cmpl-", request: request,
            context: requestContext, arrivalNanos: arrivalNanos)
        guard let admission else { return answered! }
        let engine = admission.engine
        let prompt = admission.prompt
        let timeline = RequestTimeline(arrivalNanos: arrivalNanos)
        let generation = GenerationRequest(
            requestID: admission.requestID, prompt: prompt,
            maxTokens: completion.maxTokens ?? engine.defaultMaxTokens(promptTokens: prompt.tokenCount),
            maxTokensRequested: completion.maxTokens != nil, temperature: completion.temperature,
            topP: completion.topP, seed: completion.seed, ignoreEOS: completion.ignoreEOS, arrivalNanos: arrivalNanos,
            timeline: timeline)
        timeline.markSubmitted()
        let stream = engine.generate(generation)
        if let refusal = stream.refusal {
            var response = Self.errorResponse(refusal, dialect)
            if refusal.status == .tooManyRequests { response.headers[.retryAfter] = "1" }
            response.headers[Self.requestIDHeader] = admission.requestID
            return response
        }
        var headers: HTTPFields = [Self.requestIDHeader: admission.requestID]
        for (name, value) in stream.responseHeaders {
            if let name = HTTPField.Name(name) { headers[name] = value }
        }
        let events = NativeEvents(
            dialect: dialect, model: engine.modelName, promptTokens: prompt.tokenCount, details: native.details,
            seed: completion.seed)
        if completion.stream {
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            let writer = NativeStreamWriter(
                events: events, stream: stream, arrivalNanos: arrivalNanos, metrics: metrics, trace: trace,
                traceID: admission.traceID, timeline: timeline)
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody { bodyWriter in
                    try await writer.write(to: &bodyWriter)
                })
        }
        // Not streamed: generate before answering, so a failure still gets an error status.
        headers[.contentType] = "application/json"
        metrics.generationStarted(promptTokens: prompt.tokenCount)
        var endNanos = arrivalNanos
        defer { metrics.generationEnded(arrivalNanos: arrivalNanos, endNanos: endNanos) }
        let result = try await CompletionCollector(stream: stream, stop: []).collect()
        endNanos = MonotonicClock.nowNanos()
        let phases = timeline.phases(endNanos: endNanos, usage: result.finish.usageDetails)
        metrics.phasesEnded(phases)
        headers[Self.serverTimingHeader] = phases.serverTimingHeader
        let body: String
        if dialect == .tgi {
            body = events.tgiBody(text: result.text, generated: result.completionTokens, reason: result.finish.reason)
        } else {
            body = events.llamaFinal(
                content: result.text, predicted: result.completionTokens, reason: result.finish.reason, phases: phases)
        }
        metrics.tokensWritten(
            result.completionTokens, gapNanos: nil, ttftNanos: (result.firstTokenNanos ?? endNanos) &- arrivalNanos)
        trace?.record(requestID: admission.traceID, entries: [.init(index: 0, kind: .response)], nanos: endNanos)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
