import HummingbirdCore
import NIOCore

/// Streams one completion as SSE. Events are rendered into a buffer that is written when it reaches
/// `flushBytes` or when the engine has nothing more ready, so a fast engine costs one write per ~16 KiB,
/// not one per token.
struct CompletionStreamWriter: Sendable {
    static let flushBytes = 16 * 1024

    let templates: SSEChunkTemplates
    let stream: GenerationStream
    let endpoint: CompletionParameters.Endpoint
    let stop: [String]
    let includeUsage: Bool
    let promptTokens: Int
    let arrivalNanos: UInt64
    let metrics: ServerMetrics
    let trace: TraceRecorder?
    let traceID: [UInt8]
    /// The request's stamps: its phases go in the finish event's `timings` and the phase histograms.
    let timeline: RequestTimeline

    func write(to writer: inout any ResponseBodyWriter) async throws {
        metrics.generationStarted(promptTokens: promptTokens)
        var state = WriteState(templates: templates, tracing: trace != nil)
        var finished = false
        defer {
            if !finished { stream.cancel() }
            metrics.generationEnded(arrivalNanos: arrivalNanos, endNanos: MonotonicClock.nowNanos())
        }
        if endpoint == .chat && !stream.opensWithToolCall {
            state.append(templates.roleEvent, kind: .role)
            state.roleSent = true
            try await flush(&state, to: &writer)
        }
        var matcher = stop.isEmpty ? nil : StopSequenceMatcher(sequences: stop)
        var finish = GenerationFinish(reason: .stop)
        var batches = stream.makeAsyncIterator()
        generation: while true {
            let next: GenerationBatch?
            do {
                next = try await batches.next()
            } catch let error as APIError {
                // The engine answered instead of generating (it is shutting down): an error event, then [DONE].
                finished = true
                state.append(ByteBuffer(string: "data: \(error.body)\n\n"), kind: .finish)
                state.append(SSEChunkTemplates.done, kind: .done)
                try await flush(&state, to: &writer)
                try await writer.finish(nil)
                return
            }
            guard let batch = next else { break }
            for piece in batch.pieces {
                state.completionTokens += piece.tokenCount
                state.pendingTokens += piece.tokenCount
                if piece.kind != .content {
                    // Reasoning and tool calls pass the stop sequences by: they apply to the answer text.
                    state.appendPiece(piece)
                } else if matcher == nil {
                    state.appendContent(piece.text)
                } else {
                    let (text, matched) = matcher!.feed(piece.text)
                    if !text.isEmpty { state.appendContent(text) }
                    if matched {
                        stream.cancel()
                        finished = true
                        matcher = nil
                        finish = GenerationFinish(reason: .stop)
                        break generation
                    }
                }
                if state.buffer.readableBytes >= Self.flushBytes {
                    try await flush(&state, to: &writer)
                }
            }
            if let batchFinish = batch.finish {
                finished = true
                finish = batchFinish
                break
            }
            try await flush(&state, to: &writer)
        }
        finished = true
        if let tail = matcher?.drain(), !tail.isEmpty { state.appendContent(tail) }
        let phases = timeline.phases(endNanos: MonotonicClock.nowNanos(), usage: finish.usageDetails)
        metrics.phasesEnded(phases)
        let timings = phases.timingsJSON(promptTokens: promptTokens, predictedTokens: state.completionTokens)
        state.append(templates.finishEvent(finish.reason, timings: timings), kind: .finish)
        if includeUsage {
            let usage = CompletionUsage(
                promptTokens: promptTokens, completionTokens: state.completionTokens, details: finish.usageDetails,
                reasoningTokens: state.reasoningTokens > 0 ? state.reasoningTokens : nil)
            state.append(templates.usageEvent(usage), kind: .usage)
        }
        state.append(SSEChunkTemplates.done, kind: .done)
        try await flush(&state, to: &writer)
        try await writer.finish(nil)
    }

    private func flush(_ state: inout WriteState, to writer: inout any ResponseBodyWriter) async throws {
        guard state.buffer.readableBytes > 0 else { return }
        let now = MonotonicClock.nowNanos()
        if state.pendingTokens > 0 {
            if let last = state.lastContentWriteNanos {
                metrics.tokensWritten(state.pendingTokens, gapNanos: now &- last, ttftNanos: nil)
            } else {
                metrics.tokensWritten(state.pendingTokens, gapNanos: nil, ttftNanos: now &- arrivalNanos)
            }
            state.lastContentWriteNanos = now
            state.pendingTokens = 0
        }
        if let trace {
            trace.record(requestID: traceID, entries: state.traceEntries, nanos: now)
            state.traceEntries.removeAll(keepingCapacity: true)
        }
        let out = state.buffer
        state.buffer = ByteBufferAllocator().buffer(capacity: Self.flushBytes + 1024)
        try await writer.write(out)
    }
}

/// What `CompletionStreamWriter` has rendered but not yet written.
private struct WriteState {
    let templates: SSEChunkTemplates
    let tracing: Bool
    var buffer = ByteBufferAllocator().buffer(capacity: CompletionStreamWriter.flushBytes + 1024)
    var eventIndex = 0
    var contentEvents = 0
    var completionTokens = 0
    var reasoningTokens = 0
    var roleSent = false
    var pendingTokens = 0
    var lastContentWriteNanos: UInt64?
    var traceEntries: [TraceRecorder.Entry] = []

    init(templates: SSEChunkTemplates, tracing: Bool) {
        self.templates = templates
        self.tracing = tracing
    }

    @inline(__always)
    mutating func appendContent(_ text: String) {
        templates.writeContentEvent(text, to: &buffer)
        if tracing { traceEntries.append(.init(index: eventIndex, kind: contentEvents == 0 ? .firstToken : .token)) }
        contentEvents += 1
        eventIndex += 1
    }

    /// A reasoning, tool-call or tool-arguments piece. Each is a content chunk in the trace (`first_token`,
    /// `token`), as a client counts it, so calibration pairs the same events on both sides.
    mutating func appendPiece(_ piece: GeneratedPiece) {
        switch piece.kind {
        case .toolCall(let id, let name):
            guard
                let event = templates.toolCallEvent(
                    id: id, name: name, arguments: piece.text, carriesRole: !roleSent)
            else { return }
            roleSent = true
            buffer.writeImmutableBuffer(event)
        case .reasoning:
            reasoningTokens += piece.tokenCount
            templates.writeTextEvent(piece.text, kind: piece.kind, to: &buffer)
        case .content, .toolArguments:
            templates.writeTextEvent(piece.text, kind: piece.kind, to: &buffer)
        }
        if tracing { traceEntries.append(.init(index: eventIndex, kind: contentEvents == 0 ? .firstToken : .token)) }
        contentEvents += 1
        eventIndex += 1
    }

    mutating func append(_ event: ByteBuffer, kind: TraceRecorder.Kind) {
        buffer.writeImmutableBuffer(event)
        if tracing { traceEntries.append(.init(index: eventIndex, kind: kind)) }
        eventIndex += 1
    }
}
