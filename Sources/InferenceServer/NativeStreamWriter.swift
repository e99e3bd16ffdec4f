import HummingbirdCore
import NIOCore

/// Streams one llama.cpp `/completion` or TGI `/generate_stream` answer (see `NativeEvents`) at the engine's
/// pace, one event per generated piece, written as `CompletionStreamWriter` writes: what is ready in one write.
///
/// llama.cpp: the token events, then the `stop: true` event with the counts and the measured timings.
/// TGI: the token events, the last one carrying `generated_text` and `details`; when the engine's end comes
/// after its last piece was sent (a finish in a batch of its own), the last event carries a special
/// end-of-sequence token (`</s>`, no text for a client), counted in `generated_tokens` as TGI counts its own.
///
/// Trace: each token event is `first_token`/`token`; the last event is `finish` and `done` (llama.cpp's
/// `stop: true` event; TGI's last token event is also traced as a token).
struct NativeStreamWriter: Sendable {
    let events: NativeEvents
    let stream: GenerationStream
    let arrivalNanos: UInt64
    let metrics: ServerMetrics
    let trace: TraceRecorder?
    let traceID: [UInt8]
    /// The request's stamps: its phases go in llama.cpp's `timings` and the phase histograms.
    let timeline: RequestTimeline

    func write(to writer: inout any ResponseBodyWriter) async throws {
        metrics.generationStarted(promptTokens: events.promptTokens)
        var state = State(tracing: trace != nil)
        defer {
            if !state.finished { stream.cancel() }
            metrics.generationEnded(arrivalNanos: arrivalNanos, endNanos: MonotonicClock.nowNanos())
        }
        var batches = stream.makeAsyncIterator()
        while true {
            let next: GenerationBatch?
            do {
                next = try await batches.next()
            } catch let error as APIError {
                // The engine answered instead of generating (it is shutting down): an error event ends the stream.
                state.finished = true
                state.buffer.writeImmutableBuffer(events.errorEvent(error))
                state.trace(.finish)
                try await flush(&state, &writer)
                try await writer.finish(nil)
                return
            }
            guard let batch = next else { break }
            for (i, piece) in batch.pieces.enumerated() {
                state.tokens += piece.tokenCount
                state.pendingTokens += piece.tokenCount
                state.text += piece.text
                let isLast = batch.finish != nil && i == batch.pieces.count - 1
                switch events.dialect {
                case .tgi:
                    let final: (text: String, generated: Int, reason: GenerationFinish.Reason)? =
                        isLast ? (state.text, state.tokens, batch.finish!.reason) : nil
                    events.tgiToken(
                        piece.text, index: state.contentEvents + 1, special: false, final: final, to: &state.buffer)
                    state.traceContent(final: isLast)
                    if isLast { state.finalSent = true }
                default:
                    events.llamaToken(piece.text, predicted: state.tokens, to: &state.buffer)
                    state.traceContent(final: false)
                }
                if state.buffer.readableBytes >= CompletionStreamWriter.flushBytes { try await flush(&state, &writer) }
            }
            if let finish = batch.finish {
                state.finished = true
                try await end(finish, &state, &writer)
                return
            }
            try await flush(&state, &writer)
        }
        state.finished = true
        try await end(GenerationFinish(reason: .stop), &state, &writer)
    }

    private func end(
        _ finish: GenerationFinish, _ state: inout State, _ writer: inout any ResponseBodyWriter
    ) async throws {
        let reason = finish.reason
        let phases = timeline.phases(endNanos: MonotonicClock.nowNanos(), usage: finish.usageDetails)
        metrics.phasesEnded(phases)
        switch events.dialect {
        case .tgi:
            if !state.finalSent {
                state.tokens += 1
                state.pendingTokens += 1
                events.tgiToken(
                    "</s>", index: state.contentEvents + 1, special: true, final: (state.text, state.tokens, reason),
                    to: &state.buffer)
                state.traceContent(final: true)
            }
        default:
            state.buffer.writeString(
                "data: " + events.llamaFinal(content: "", predicted: state.tokens, reason: reason, phases: phases)
                    + "\n\n")
            state.trace(.finish)
            state.trace(.done)
            state.eventIndex += 1
        }
        try await flush(&state, &writer)
        try await writer.finish(nil)
    }

    private func flush(_ state: inout State, _ writer: inout any ResponseBodyWriter) async throws {
        // Only the HTTP-level faults apply to these endpoints, and they are answered before any stream.
        try await state.flush(
            to: &writer, fault: .none, faultConfiguration: FaultConfiguration(), metrics: metrics,
            arrivalNanos: arrivalNanos, trace: trace, traceID: traceID)
    }

    private struct State: EventStreamState {
        let tracing: Bool
        var buffer = ByteBufferAllocator().buffer(capacity: CompletionStreamWriter.flushBytes + 1024)
        var eventIndex = 0
        var contentEvents = 0
        var tokens = 0
        var pendingTokens = 0
        var text = ""
        var lastContentWriteNanos: UInt64?
        var traceEntries: [TraceRecorder.Entry] = []
        var finalSent = false
        var finished = false

        init(tracing: Bool) { self.tracing = tracing }

        /// A token event was rendered: traced as the client counts it; the final one also ends the answer.
        mutating func traceContent(final: Bool) {
            if tracing {
                traceEntries.append(.init(index: eventIndex, kind: contentEvents == 0 ? .firstToken : .token))
                if final {
                    traceEntries.append(.init(index: eventIndex, kind: .finish))
                    traceEntries.append(.init(index: eventIndex, kind: .done))
                }
            }
            contentEvents += 1
            eventIndex += 1
        }

        /// An event that is not a token, at the current index (the caller advances it).
        mutating func trace(_ kind: TraceRecorder.Kind) {
            if tracing { traceEntries.append(.init(index: eventIndex, kind: kind)) }
        }
    }
}
