import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// What every generating endpoint checks before it generates, the fault it draws, the arrival it traces and the
/// faults answered before any generation.
extension OpenAIResponder {
    /// A request that passed every check and may be generated: its engine, prompt, ids and fault.
    struct Admitted {
        var engine: any ServingEngine
        var prompt: PreparedPrompt
        /// The response's id (`chatcmpl-…`, `cmpl-…`, `msg_…`).
        var id: String
        var requestID: String
        var traceID: [UInt8]
        var fault: ServerFault
    }

    /// What every generating endpoint checks before it generates, in this order: the fault header, the
    /// engine, the model, the prompt and its length; then picks the fault (refused with 400 when it does
    /// not apply to `dialect`), traces the arrival, and answers the faults that need no generation. Returns
    /// the response when the request ends here.
    func admit(
        _ parameters: CompletionParameters, dialect: ResponseDialect, idPrefix: String, request: Request,
        context requestContext: Context, arrivalNanos: UInt64
    ) async throws -> (admitted: Admitted?, response: Response?) {
        let requestedFault = try requestedFault(in: request)
        let engine = try servingEngine(for: parameters.model)
        let prompt: PreparedPrompt
        do {
            prompt = try engine.prepare(parameters.input)
        } catch let error as APIError {
            throw error
        } catch {
            throw APIError.invalidRequest(
                "The prompt could not be prepared: \(error)",
                param: parameters.endpoint == .chat ? "messages" : "prompt")
        }
        let context = engine.contextLength
        if prompt.tokenCount >= context {
            throw APIError.invalidRequest(
                "This model's maximum context length is \(context) tokens. However, your prompt has \(prompt.tokenCount) tokens.",
                param: parameters.endpoint == .chat ? "messages" : "prompt", code: "context_length_exceeded")
        }
        if let maxTokens = parameters.maxTokens, maxTokens > context - prompt.tokenCount {
            throw APIError.invalidRequest(
                "This model's maximum context length is \(context) tokens. However, you requested "
                    + "\(maxTokens) completion tokens with a prompt of \(prompt.tokenCount) tokens.",
                param: "max_tokens", code: "context_length_exceeded")
        }
        let id = idPrefix + Self.randomHex(24)
        let requestID = self.requestID(request, fallback: id)
        let traceID = TraceRecorder.sanitize(requestID)
        let fault = try drawFault(
            requestedFault, dialect: dialect, stream: parameters.stream, path: request.uri.path)
        traceArrival(traceID: traceID, fault: fault, context: requestContext, arrivalNanos: arrivalNanos)
        let admitted = Admitted(
            engine: engine, prompt: prompt, id: id, requestID: requestID, traceID: traceID, fault: fault)
        if fault != .none,
            let response = try await immediateFault(
                fault, dialect: dialect, stream: parameters.stream, requestID: requestID, context: requestContext)
        {
            return (nil, response)
        }
        return (admitted, nil)
    }

    /// The fault the `x-llmperf-fault` header asks for, if any; an unknown name is a 400.
    func requestedFault(in request: Request) throws(APIError) -> ServerFault? {
        guard let name = request.headers[Self.faultHeader] else { return nil }
        guard let fault = ServerFault(rawValue: name) else {
            throw APIError.invalidRequest(
                "Unknown fault '\(name)' in \(ServerFault.headerName); valid faults: \(ServerFault.validNames).",
                param: ServerFault.headerName, code: "invalid_fault")
        }
        return fault
    }

    /// The ready engine, when it serves `model` (404 `model_not_found` otherwise).
    func servingEngine(for model: String) throws(APIError) -> any ServingEngine {
        let engine = try readyEngine()
        guard model == engine.modelName else {
            throw APIError(
                status: .notFound,
                message: "The model '\(model)' does not exist; this server serves '\(engine.modelName)'.",
                param: "model", code: "model_not_found")
        }
        return engine
    }

    /// The client's `x-request-id`, else `fallback` (the response's id).
    func requestID(_ request: Request, fallback: String) -> String {
        request.headers[Self.requestIDHeader].flatMap { $0.isEmpty ? nil : $0 } ?? fallback
    }

    /// The requested fault, else the next one fault mode draws; refused with 400 when it does not apply to
    /// `dialect`. A non-streamed request drawn a fault only a stream can show is answered healthy, except the
    /// overloaded fault, which gets the status it stands for.
    func drawFault(_ requested: ServerFault?, dialect: ResponseDialect, stream: Bool, path: String)
        throws(APIError) -> ServerFault
    {
        let fault = requested ?? faults.next()
        guard fault.applies(to: dialect) else {
            throw APIError.invalidRequest(
                "The fault '\(fault.rawValue)' does not apply to \(path); faults for this endpoint: "
                    + "\(ServerFault.validNames(for: dialect)).",
                param: ServerFault.headerName, code: "invalid_fault")
        }
        if !stream && fault.needsStream && fault != .overloadedMidStream { return .none }
        return fault
    }

    /// Traces the request's arrival, its fault and the client's port (`--trace-file`), after its
    /// connection's accept when it is the first request on that connection.
    func traceArrival(traceID: [UInt8], fault: ServerFault, context: Context, arrivalNanos: UInt64) {
        guard let trace else { return }
        var entries: [TraceRecorder.Entry] = [
            .init(index: -1, kind: .arrival), .init(index: -1, kind: .fault, detail: fault.rawValue),
        ]
        if let port = context.remotePort {
            entries.append(.init(index: -1, kind: .remotePort, detail: String(port)))
        }
        // The connection's accept comes first: the file stays in time order.
        if let accepted = context.arrival?.takeAccepted() {
            trace.record(requestID: traceID, entries: [.init(index: -2, kind: .accept)], nanos: accepted)
        }
        trace.record(requestID: traceID, entries: entries, nanos: arrivalNanos)
    }

    /// A whole JSON answer, written byte by byte under `drip`.
    func jsonAnswer(
        _ body: String, headers: HTTPFields, fault: ServerFault, contentType: String = "application/json"
    ) -> Response {
        var headers = headers
        headers[.contentType] = contentType
        if fault == .drip {
            let interval = faults.configuration.drip
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody(contentLength: body.utf8.count) { bodyWriter in
                    try await FaultStreamWriter.drip(ByteBuffer(string: body), every: interval, to: &bodyWriter)
                    try await bodyWriter.finish(nil)
                })
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// The faults answered before any generation: HTTP errors (in `dialect`'s shape) and the reset after the
    /// request was read; and the overloaded fault of a non-streamed request (529 on `/v1/messages`, 503
    /// `server_is_overloaded` on `/v1/responses`).
    func immediateFault(
        _ fault: ServerFault, dialect: ResponseDialect, stream: Bool, requestID: String, context: Context
    ) async throws -> Response? {
        var response: Response
        switch fault {
        case .http429:
            response = Self.errorResponse(
                APIError(
                    status: .tooManyRequests, message: "Rate limit reached for requests (injected fault).",
                    type: "requests", code: "rate_limit_exceeded"), dialect)
            response.headers[.retryAfter] = "1"
        case .http500:
            response = Self.errorResponse(
                APIError(
                    status: .internalServerError,
                    message: "The server had an error while processing your request (injected fault).",
                    type: "server_error"), dialect)
        case .overloadedMidStream where !stream && dialect == .openAIResponses:
            response = Self.errorResponse(
                APIError(
                    status: .serviceUnavailable, message: "Overloaded", type: "server_error",
                    code: ResponsesEvents.overloadedCode), dialect)
        case .overloadedMidStream where !stream:
            response = Self.errorResponse(
                APIError(status: APIError.overloadedStatus, message: "Overloaded", type: "server_error"), dialect)
        case .http503HTML:
            response = Response(
                status: .serviceUnavailable, headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: Self.unavailablePage)))
        case .resetBeforeResponse:
            // Nothing reaches the client: Hummingbird's write of this response fails on the closed connection.
            await FaultStreamWriter.reset(context.connection)
            return Response(status: .internalServerError)
        default:
            return nil
        }
        response.headers[Self.requestIDHeader] = requestID
        if dialect == .anthropic { response.headers[Self.anthropicRequestIDHeader] = requestID }
        return response
    }

    static let unavailablePage = """
        <!DOCTYPE html>
        <html><head><title>503 Service Temporarily Unavailable</title></head>
        <body><h1>503 Service Temporarily Unavailable</h1><p>The upstream is overloaded (injected fault).</p></body>
        </html>

        """
}
