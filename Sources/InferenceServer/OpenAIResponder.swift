import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Routes and answers every request: the OpenAI endpoints (`/v1/responses` and `/v1/embeddings` too), Anthropic's `/v1/messages`,
/// Ollama's `/api/chat` and `/api/generate`, llama.cpp's `/completion`, TGI's `/generate` and
/// `/generate_stream`, `/v1/models`, `/health`, `/ready`, `/metrics`. Every failure becomes an error body in the
/// endpoint's dialect (OpenAI's, Anthropic's, Ollama's, llama.cpp's or TGI's); nothing a client sends can crash
/// the server.
struct OpenAIResponder: HTTPResponder {
    typealias Context = ServerRequestContext

    let engineHost: EngineHost
    let metrics: ServerMetrics
    let trace: TraceRecorder?
    let maxBodyBytes: Int
    let faults: FaultInjector
    /// `--api-key`: required on the completion endpoints when set.
    let apiKey: APIKeyCheck?

    static let requestIDHeader = HTTPField.Name("x-request-id")!
    static let faultHeader = HTTPField.Name(ServerFault.headerName)!
    /// Anthropic's name for the request id header, sent next to `x-request-id` on `/v1/messages`.
    static let anthropicRequestIDHeader = HTTPField.Name("request-id")!
    /// The phases of a non-streamed answer (W3C Server Timing), as `ServerPhases.serverTimingHeader` writes them.
    static let serverTimingHeader = HTTPField.Name("server-timing")!

    enum Route: String {
        case chat = "/v1/chat/completions"
        case completions = "/v1/completions"
        case messages = "/v1/messages"
        case responses = "/v1/responses"
        case embeddings = "/v1/embeddings"
        case ollamaChat = "/api/chat"
        case ollamaGenerate = "/api/generate"
        /// llama.cpp's native completion endpoint.
        case llamaCompletion = "/completion"
        /// TGI's native endpoints.
        case tgiGenerate = "/generate"
        case tgiGenerateStream = "/generate_stream"
        case models = "/v1/models"
        case health = "/health"
        case ready = "/ready"
        case metrics = "/metrics"

        var method: HTTPRequest.Method {
            switch self {
            case .chat, .completions, .messages, .responses, .embeddings, .ollamaChat, .ollamaGenerate,
                .llamaCompletion, .tgiGenerate, .tgiGenerateStream:
                return .post
            default: return .get
            }
        }

        var dialect: ResponseDialect {
            switch self {
            case .messages: return .anthropic
            case .responses: return .openAIResponses
            case .ollamaChat, .ollamaGenerate: return .ollama
            case .llamaCompletion: return .llamaCpp
            case .tgiGenerate, .tgiGenerateStream: return .tgi
            default: return .openAI
            }
        }

        /// The endpoints that generate, which `--api-key` guards.
        var needsKey: Bool { method == .post }
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        // When its first bytes were read from the connection (over TLS: once decrypted).
        let arrivalNanos = context.arrival?.take() ?? MonotonicClock.nowNanos()
        var path = request.uri.path
        if path.count > 1, path.hasSuffix("/") { path.removeLast() }
        guard let route = Route(rawValue: path) else {
            metrics.countRequest(endpoint: "other", status: 404)
            return Self.errorResponse(
                APIError(status: .notFound, message: "Unknown path: \(request.method) \(path)", code: "not_found"))
        }
        let response: Response
        if request.method != route.method, !(route.method == .get && request.method == .head) {
            var error = Self.errorResponse(
                APIError(
                    status: .methodNotAllowed, message: "Method \(request.method) is not allowed on \(path).",
                    code: "method_not_allowed"), route.dialect)
            error.headers[.allow] = route.method.rawValue
            response = error
        } else {
            do {
                response = try await answer(route, request: request, context: context, arrivalNanos: arrivalNanos)
            } catch let error as APIError {
                response = Self.errorResponse(error, route.dialect)
            } catch {
                response = Self.errorResponse(
                    APIError(
                        status: .internalServerError, message: "\(error)", type: "server_error", code: "internal_error"),
                    route.dialect)
            }
        }
        metrics.countRequest(endpoint: route.rawValue, status: Int(response.status.code))
        return response
    }

    private func answer(_ route: Route, request: Request, context: Context, arrivalNanos: UInt64) async throws
        -> Response
    {
        if route.needsKey, let apiKey { try apiKey.check(request.headers, dialect: route.dialect) }
        switch route {
        case .messages:
            let body = try await collectBody(request)
            let parameters = try RequestBodyDecoder.messages(body)
            return try await messages(parameters, request: request, context: context, arrivalNanos: arrivalNanos)
        case .responses:
            let body = try await collectBody(request)
            let parameters = try RequestBodyDecoder.responses(body)
            return try await responses(parameters, request: request, context: context, arrivalNanos: arrivalNanos)
        case .embeddings:
            let body = try await collectBody(request)
            let parameters = try RequestBodyDecoder.embeddings(body)
            return try await embeddings(parameters, request: request, context: context, arrivalNanos: arrivalNanos)
        case .ollamaChat, .ollamaGenerate:
            let body = try await collectBody(request)
            let parameters = try RequestBodyDecoder.ollama(body, chat: route == .ollamaChat)
            return try await ollama(parameters, request: request, context: context, arrivalNanos: arrivalNanos)
        case .llamaCompletion, .tgiGenerate, .tgiGenerateStream:
            let body = try await collectBody(request)
            let parameters =
                route == .llamaCompletion
                ? try RequestBodyDecoder.llamaCompletion(body)
                : try RequestBodyDecoder.tgiGenerate(body, stream: route == .tgiGenerateStream)
            return try await native(
                parameters, dialect: route.dialect, request: request, context: context, arrivalNanos: arrivalNanos)
        case .chat, .completions:
            let body = try await collectBody(request)
            let parameters =
                route == .chat ? try RequestBodyDecoder.chat(body) : try RequestBodyDecoder.completion(body)
            return try await completion(parameters, request: request, context: context, arrivalNanos: arrivalNanos)
        case .models:
            let engine = try readyEngine()
            var body = "{\"object\":\"list\",\"data\":[{\"id\":"
            JSONText.appendQuoted(engine.modelName, to: &body)
            body +=
                ",\"object\":\"model\",\"created\":0,\"owned_by\":\"llmperf\",\"max_model_len\":\(engine.contextLength)}]}"
            return Self.jsonResponse(.ok, body)
        case .health, .ready:
            switch engineHost.state {
            case .ready(let engine):
                return Self.jsonResponse(.ok, "{\"status\":\"ok\",\"model\":\(JSONText.quoted(engine.modelName))}")
            case .loading:
                return Self.jsonResponse(.serviceUnavailable, "{\"status\":\"loading\"}")
            case .failed(let message):
                return Self.jsonResponse(
                    .serviceUnavailable, "{\"status\":\"failed\",\"error\":\(JSONText.quoted(message))}")
            }
        case .metrics:
            var load: SchedulerLoad?
            var engineMetrics = ""
            if case .ready(let engine) = engineHost.state {
                load = engine.schedulerLoad
                engineMetrics = engine.metricsText
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(
                    byteBuffer: ByteBuffer(string: metrics.render(engineLoad: load, engineMetrics: engineMetrics))))
        }
    }

    func readyEngine() throws(APIError) -> any ServingEngine {
        switch engineHost.state {
        case .ready(let engine):
            return engine
        case .loading:
            throw APIError(
                status: .serviceUnavailable, message: "The model is still loading; retry shortly.",
                type: "server_error",
                code: "model_loading")
        case .failed(let message):
            throw APIError(
                status: .serviceUnavailable, message: "The model failed to load: \(message)", type: "server_error",
                code: "model_unavailable")
        }
    }

    func collectBody(_ request: Request) async throws -> ByteBuffer {
        let tooLarge = APIError(
            status: .contentTooLarge, message: "The request body exceeds \(maxBodyBytes) bytes.", code: "body_too_large"
        )
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > maxBodyBytes {
            throw tooLarge
        }
        var collected = ByteBuffer()
        for try await part in request.body {
            guard collected.readableBytes + part.readableBytes <= maxBodyBytes else { throw tooLarge }
            collected.writeImmutableBuffer(part)
        }
        return collected
    }

    private func completion(
        _ parameters: CompletionParameters, request: Request, context requestContext: Context, arrivalNanos: UInt64
    ) async throws -> Response {
        let (admission, answered) = try await admit(
            parameters, dialect: .openAI, idPrefix: parameters.endpoint == .chat ? "chatcmpl-" : "cmpl-",
            request: request, context: requestContext, arrivalNanos: arrivalNanos)
        guard let admission else { return answered! }
        let (engine, prompt, id, requestID, traceID, fault) = (
            admission.engine, admission.prompt, admission.id, admission.requestID, admission.traceID, admission.fault
        )
        let created = Int(Date().timeIntervalSince1970)
        let timeline = RequestTimeline(arrivalNanos: arrivalNanos)
        let generation = GenerationRequest(
            requestID: requestID, prompt: prompt,
            maxTokens: parameters.maxTokens ?? engine.defaultMaxTokens(promptTokens: prompt.tokenCount),
            maxTokensRequested: parameters.maxTokens != nil, temperature: parameters.temperature,
            topP: parameters.topP, seed: parameters.seed, ignoreEOS: parameters.ignoreEOS, arrivalNanos: arrivalNanos,
            isChat: parameters.endpoint == .chat, timeline: timeline)
        timeline.markSubmitted()
        let stream = engine.generate(generation)
        if let refusal = stream.refusal {
            var response = Self.errorResponse(refusal)
            if refusal.status == .tooManyRequests { response.headers[.retryAfter] = "1" }
            response.headers[Self.requestIDHeader] = requestID
            return response
        }
        var headers: HTTPFields = [Self.requestIDHeader: requestID]
        for (name, value) in stream.responseHeaders {
            if let name = HTTPField.Name(name) { headers[name] = value }
        }
        if parameters.stream {
            headers[.contentType] = fault == .wrongContentType ? "application/json" : "text/event-stream"
            headers[.cacheControl] = "no-cache"
            if fault != .none && fault != .wrongContentType {
                let faulty = FaultStreamWriter(
                    fault: fault, configuration: faults.configuration,
                    templates: SSEChunkTemplates(
                        endpoint: parameters.endpoint, id: id, created: created, model: engine.modelName),
                    stream: stream, endpoint: parameters.endpoint, stop: parameters.stop,
                    includeUsage: parameters.includeUsage, promptTokens: prompt.tokenCount,
                    arrivalNanos: arrivalNanos, metrics: metrics, trace: trace, traceID: traceID,
                    connection: requestContext.connection)
                return Response(
                    status: .ok, headers: headers,
                    body: ResponseBody { bodyWriter in
                        try await faulty.write(to: &bodyWriter)
                    })
            }
            let writer = CompletionStreamWriter(
                templates: SSEChunkTemplates(
                    endpoint: parameters.endpoint, id: id, created: created, model: engine.modelName),
                stream: stream, endpoint: parameters.endpoint, stop: parameters.stop,
                includeUsage: parameters.includeUsage, promptTokens: prompt.tokenCount, arrivalNanos: arrivalNanos,
                metrics: metrics, trace: trace, traceID: traceID, timeline: timeline)
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
        let result = try await CompletionCollector(stream: stream, stop: parameters.stop).collect()
        let usage = CompletionUsage(
            promptTokens: prompt.tokenCount, completionTokens: result.completionTokens,
            details: result.finish.usageDetails,
            reasoningTokens: result.reasoningTokens > 0 ? result.reasoningTokens : nil)
        let body = CompletionCollector.body(
            endpoint: parameters.endpoint, id: id, created: created, model: engine.modelName, result: result,
            usage: usage)
        endNanos = MonotonicClock.nowNanos()
        metrics.tokensWritten(
            result.completionTokens, gapNanos: nil, ttftNanos: (result.firstTokenNanos ?? endNanos) &- arrivalNanos)
        let phases = timeline.phases(endNanos: endNanos, usage: result.finish.usageDetails)
        metrics.phasesEnded(phases)
        headers[Self.serverTimingHeader] = phases.serverTimingHeader
        trace?.record(requestID: traceID, entries: [.init(index: 0, kind: .response)], nanos: endNanos)
        return jsonAnswer(body, headers: headers, fault: fault)
    }

    static func errorResponse(_ error: APIError, _ dialect: ResponseDialect = .openAI) -> Response {
        jsonResponse(error.status(in: dialect), error.body(in: dialect))
    }

    static func jsonResponse(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func randomHex(_ count: Int) -> String {
        let digits = Array("0123456789abcdef")
        var out = ""
        out.reserveCapacity(count)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<count { out.append(digits[Int(generator.next() % 16)]) }
        return out
    }
}
