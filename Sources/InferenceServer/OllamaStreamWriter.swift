import HummingbirdCore
import NIOCore

/// Streams one `/api/chat` or `/api/generate` answer as Ollama's NDJSON lines (see `OllamaLines`), at the
/// engine's pace: one line per generated piece (the first at ttft, then one per itl), reasoning in
/// `thinking`; a tool call is held until its arguments are complete and goes out as one line (Ollama sends
/// a call whole, its arguments a JSON object); the last line has `done: true` and the counts. `eval_count`
/// counts every reasoning and text token, and a tool call as one: the one line a client sees for it (so
/// `usage_diff` stays 0 for a synthetic tool call as for text).
/// Stop sequences apply to the answer text only.
///
/// Healthy answers are written what is ready in one write, as `CompletionStreamWriter` writes; with a fault
/// every line is written on its own (`drip` drips each). The mid-stream faults (`reset_mid_stream`,
/// `stall_mid_stream`) happen once `after` content lines were sent, or before the last line when the
/// answer has fewer; `no_done` leaves the last line out.
///
/// Trace: every content line is `first_token`/`token`; the last line is `finish` and `done`.
struct OllamaStreamWriter: Sendable {
    static let flushBytes = CompletionStreamWriter.flushBytes

    let lines: OllamaLines
    let stream: GenerationStream
    let stop: [String]
    let promptTokens: Int
    let arrivalNanos: UInt64
    let metrics: ServerMetrics
    let trace: TraceRecorder?
    let traceID: [UInt8]
    /// `.none` for a healthy answer.
    let fault: ServerFault
    let faultConfiguration: FaultConfiguration
    /// The connection, for `reset_mid_stream`.
    let connection: (any Channel)?

    func write(to writer: inout any ResponseBodyWriter) async throws {
        metrics.generationStarted(promptTokens: promptTokens)
        var state = State(tracing: trace != nil)
        defer {
            if !state.finished { stream.cancel() }
            metrics.generationEnded(arrivalNanos: arrivalNanos, endNanos: MonotonicClock.nowNanos())
        }
        try await run(&state, &writer)
    }

    private func run(_ state: inout State, _ writer: inout any ResponseBodyWriter) async throws {
        if fault == .stallFirstToken { try await MonotonicClock.sleep(for: faultConfiguration.stall) }
        var matcher = stop.isEmpty ? nil : StopSequenceMatcher(sequences: stop)
        var finish = GenerationFinish(reason: .stop)
        var batches = stream.makeAsyncIterator()
        generation: while true {
            let next: GenerationBatch?
            do {
                next = try await batches.next()
            } catch let error as APIError {
                // The engine answered instead of generating (it is shutting down): an error line ends the stream.
                state.finished = true
                state.buffer.writeImmutableBuffer(OllamaLines.error(error.message))
                try await flush(&state, &writer)
                try await writer.finish(nil)
                return
            }
            guard let batch = next else { break }
            for piece in batch.pieces {
                state.pendingTokens += piece.tokenCount
                switch piece.kind {
                case .reasoning:
                    state.evalCount += piece.tokenCount
                    try await token(piece.text, thinking: true, &state, &writer)
                case .toolCall(_, let name):
                    state.call = (name, piece.text)
                case .toolArguments:
                    state.call?.arguments += piece.text
                case .content:
                    state.evalCount += piece.tokenCount
                    guard matcher != nil else {
                        try await token(piece.text, thinking: false, &state, &writer)
                        break
                    }
                    let (text, matched) = matcher!.feed(piece.text)
                    if !text.isEmpty { try await token(text, thinking: false, &state, &writer) }
                    if matched {
                        stream.cancel()
                        state.finished = true
                        matcher = nil
                        finish = GenerationFinish(reason: .stop)
                        break generation
                    }
                }
                if state.firstTokenNanos == nil { state.firstTokenNanos = MonotonicClock.nowNanos() }
                if state.buffer.readableBytes >= Self.flushBytes { try await flush(&state, &writer) }
            }
            if let batchFinish = batch.finish {
                state.finished = true
                finish = batchFinish
                break
            }
            try await flush(&state, &writer)
        }
        state.finished = true
        if let tail = matcher?.drain(), !tail.isEmpty { try await token(tail, thinking: false, &state, &writer) }
        if let call = state.call {
            state.evalCount += 1
            try await content(&state, &writer) { lines.toolCall(name: call.name, arguments: call.arguments, to: &$0) }
        }
        try await midStreamFault(&state, &writer)
        if fault != .noDone {
            let end = MonotonicClock.nowNanos()
            lines.final(
                OllamaLines.Final(
                    doneReason: OllamaLines.doneReason(finish.reason), promptTokens: promptTokens,
                    evalCount: state.evalCount, arrivalNanos: arrivalNanos,
                    firstTokenNanos: state.firstTokenNanos ?? end, endNanos: end), to: &state.buffer)
            if state.tracing {
                state.traceEntries.append(.init(index: state.eventIndex, kind: .finish))
                state.traceEntries.append(.init(index: state.eventIndex, kind: .done))
            }
            state.eventIndex += 1
        }
        try await flush(&state, &writer)
        try await writer.finish(nil)
    }

    private func token(
        _ text: String, thinking: Bool, _ state: inout State, _ writer: inout any ResponseBodyWriter
    ) async throws {
        try await content(&state, &writer) { lines.token(text, thinking: thinking, to: &$0) }
    }

    /// One content line (a token or a tool call), after the mid-stream fault when it is due.
    private func content(
        _ state: inout State, _ writer: inout any ResponseBodyWriter, _ render: (inout ByteBuffer) -> Void
    ) async throws {
        if state.contentEvents >= faultConfiguration.after { try await midStreamFault(&state, &writer) }
        render(&state.buffer)
        state.traceContent()
        if fault != .none { try await flush(&state, &writer) }
    }

    /// The mid-stream fault, once.
    private func midStreamFault(_ state: inout State, _ writer: inout any ResponseBodyWriter) async throws {
        guard !state.midStreamDone else { return }
        state.midStreamDone = true
        switch fault {
        case .resetMidStream:
            try await flush(&state, &writer)
            await FaultStreamWriter.reset(connection)
            throw FaultInjected.connectionReset
        case .stallMidStream:
            try await flush(&state, &writer)
            try await MonotonicClock.sleep(for: faultConfiguration.stall)
        default:
            break
        }
    }

    private func flush(_ state: inout State, _ writer: inout any ResponseBodyWriter) async throws {
        try await state.flush(
            to: &writer, fault: fault, faultConfiguration: faultConfiguration, metrics: metrics,
            arrivalNanos: arrivalNanos, trace: trace, traceID: traceID)
    }

    /// What has been rendered but not yet written, and where the answer stands.
    private struct State: EventStreamState {
        let tracing: Bool
        var buffer = ByteBufferAllocator().buffer(capacity: OllamaStreamWriter.flushBytes + 1024)
        var eventIndex = 0
        var contentEvents = 0
        /// `eval_count`: the tokens of every reasoning and text piece, and one for a tool call's line.
        var evalCount = 0
        var pendingTokens = 0
        var firstTokenNanos: UInt64?
        var lastContentWriteNanos: UInt64?
        var traceEntries: [TraceRecorder.Entry] = []
        /// The tool call being generated: held until its arguments are complete.
        var call: (name: String, arguments: String)?
        var midStreamDone = false
        var finished = false

        init(tracing: Bool) { self.tracing = tracing }
    }
}
