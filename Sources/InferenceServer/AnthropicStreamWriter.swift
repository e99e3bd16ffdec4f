import HummingbirdCore
import NIOCore

/// Streams one `/v1/messages` answer as Anthropic's SSE events (see `AnthropicEvents`), at the engine's
/// pace: `message_start` and one `ping` at once, then one `content_block_delta` per generated piece (the
/// first at ttft, then one per itl), each block opened when its first piece arrives and closed when a piece
/// of another kind does: reasoning is a `thinking` block (closed by a `signature_delta`), answer text a
/// `text` block, a tool call a `tool_use` block whose `input_json_delta` fragments are the call's arguments.
/// Stop sequences apply to the answer text only.
///
/// Healthy answers are written as `CompletionStreamWriter` writes them, what is ready in one write; with a
/// fault every event is written on its own, framed by the fault (`crlf`, `ping_comments`, `drip`). The
/// mid-stream faults (`reset_mid_stream`, `stall_mid_stream`, `overloaded_mid_stream`) happen once
/// `after` content events were sent, or before `message_delta` when the answer has fewer.
///
/// Trace: `message_start` is `role`; every content delta, and a `tool_use` block's start (its `name` is
/// the call's first content, as the Anthropic dialect of the client counts it), is `first_token`/`token`;
/// `message_delta` is `finish`; `message_stop` is `done`. The other events are not traced but keep an index.
struct AnthropicStreamWriter: Sendable {
    static let flushBytes = CompletionStreamWriter.flushBytes

    let events: AnthropicEvents
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

    /// The stream ended early on purpose (`overloaded_mid_stream`): the body is finished, nothing more follows.
    private struct EndedEarly: Error {}

    func write(to writer: inout any ResponseBodyWriter) async throws {
        metrics.generationStarted(promptTokens: promptTokens)
        var state = State(tracing: trace != nil)
        defer {
            if !state.finished { stream.cancel() }
            metrics.generationEnded(arrivalNanos: arrivalNanos, endNanos: MonotonicClock.nowNanos())
        }
        do {
            try await run(&state, &writer)
        } catch is EndedEarly {
            try await writer.finish(nil)
        }
    }

    private func run(_ state: inout State, _ writer: inout any ResponseBodyWriter) async throws {
        try await send(events.messageStart, trace: .role, &state, &writer)
        try await send(AnthropicEvents.ping, trace: nil, &state, &writer)
        try await flush(&state, &writer)
        if fault == .stallFirstToken { try await MonotonicClock.sleep(for: faultConfiguration.stall) }
        var matcher = stop.isEmpty ? nil : StopSequenceMatcher(sequences: stop)
        var finish = GenerationFinish(reason: .stop)
        var stopSequence: String?
        var batches = stream.makeAsyncIterator()
        generation: while true {
            let next: GenerationBatch?
            do {
                next = try await batches.next()
            } catch let error as APIError {
                // The engine answered instead of generating (it is shutting down): an error event ends the stream.
                state.finished = true
                try await send(
                    AnthropicEvents.error(type: error.anthropicType, message: error.message), trace: .finish, &state,
                    &writer)
                try await flush(&state, &writer)
                try await writer.finish(nil)
                return
            }
            guard let batch = next else { break }
            for piece in batch.pieces {
                state.outputTokens += piece.tokenCount
                state.pendingTokens += piece.tokenCount
                switch piece.kind {
                case .reasoning:
                    try await delta(piece.text, in: .thinking, &state, &writer)
                case .toolCall(let id, let name):
                    try await open(
                        .toolUse(id: AnthropicEvents.toolUseID(id), name: name), tracedAsContent: true, &state,
                        &writer)
                case .toolArguments:
                    try await delta(piece.text, in: state.openBlock ?? .text, &state, &writer)
                case .content:
                    guard matcher != nil else {
                        try await delta(piece.text, in: .text, &state, &writer)
                        break
                    }
                    let (text, matched) = matcher!.feed(piece.text)
                    if !text.isEmpty { try await delta(text, in: .text, &state, &writer) }
                    if matched {
                        stream.cancel()
                        state.finished = true
                        stopSequence = matcher!.matchedSequence
                        matcher = nil
                        finish = GenerationFinish(reason: .stop)
                        break generation
                    }
                }
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
        if let tail = matcher?.drain(), !tail.isEmpty { try await delta(tail, in: .text, &state, &writer) }
        try await midStreamFault(&state, &writer)
        if state.blockCount == 0 { try await open(.text, tracedAsContent: false, &state, &writer) }
        try await closeBlock(&state, &writer)
        try await send(
            AnthropicEvents.messageDelta(
                stopReason: AnthropicEvents.stopReason(finish.reason, stopSequence: stopSequence),
                stopSequence: stopSequence, outputTokens: state.outputTokens), trace: .finish, &state, &writer)
        if fault != .noDone { try await send(AnthropicEvents.messageStop, trace: .done, &state, &writer) }
        try await flush(&state, &writer)
        try await writer.finish(nil)
    }

    /// One content delta of `block`, opening that block first when another one (or none) is open.
    private func delta(
        _ text: String, in block: AnthropicEvents.Block, _ state: inout State, _ writer: inout any ResponseBodyWriter
    ) async throws {
        if state.contentEvents >= faultConfiguration.after { try await midStreamFault(&state, &writer) }
        if state.openBlock != block { try await open(block, tracedAsContent: false, &state, &writer) }
        state.buffer.writeImmutableBuffer(state.deltaPrefix)
        JSONText.writeEscaped(text, to: &state.buffer)
        state.buffer.writeImmutableBuffer(state.deltaSuffix)
        state.traceContent()
        if fault != .none { try await flush(&state, &writer) }
    }

    /// Closes the open block and opens `block` (a `tool_use` start counts as a content event).
    private func open(
        _ block: AnthropicEvents.Block, tracedAsContent: Bool, _ state: inout State,
        _ writer: inout any ResponseBodyWriter
    ) async throws {
        try await closeBlock(&state, &writer)
        let index = state.blockCount
        state.blockCount += 1
        state.openBlock = block
        (state.deltaPrefix, state.deltaSuffix) = AnthropicEvents.deltaFraming(index: index, block)
        if tracedAsContent {
            if state.contentEvents >= faultConfiguration.after { try await midStreamFault(&state, &writer) }
            state.buffer.writeImmutableBuffer(AnthropicEvents.blockStart(index: index, block))
            state.traceContent()
            if fault != .none { try await flush(&state, &writer) }
        } else {
            try await send(AnthropicEvents.blockStart(index: index, block), trace: nil, &state, &writer)
        }
    }

    private func closeBlock(_ state: inout State, _ writer: inout any ResponseBodyWriter) async throws {
        guard let block = state.openBlock else { return }
        let index = state.blockCount - 1
        if block == .thinking {
            try await send(AnthropicEvents.signatureDelta(index: index), trace: nil, &state, &writer)
        }
        try await send(AnthropicEvents.blockStop(index: index), trace: nil, &state, &writer)
        state.openBlock = nil
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
        case .overloadedMidStream:
            try await send(
                AnthropicEvents.error(type: "overloaded_error", message: "Overloaded"), trace: nil, &state, &writer)
            try await flush(&state, &writer)
            throw EndedEarly()
        default:
            break
        }
    }

    /// Adds a whole event; with a fault, writes it at once.
    private func send(
        _ event: ByteBuffer, trace kind: TraceRecorder.Kind?, _ state: inout State,
        _ writer: inout any ResponseBodyWriter
    ) async throws {
        state.append(event, trace: kind)
        if fault != .none { try await flush(&state, &writer) }
    }

    private func flush(_ state: inout State, _ writer: inout any ResponseBodyWriter) async throws {
        try await state.flush(
            to: &writer, fault: fault, faultConfiguration: faultConfiguration, metrics: metrics,
            arrivalNanos: arrivalNanos, trace: trace, traceID: traceID)
    }

    /// What has been rendered but not yet written, and where the answer stands.
    private struct State: EventStreamState {
        let tracing: Bool
        var buffer = ByteBufferAllocator().buffer(capacity: AnthropicStreamWriter.flushBytes + 1024)
        var eventIndex = 0
        var contentEvents = 0
        var outputTokens = 0
        var pendingTokens = 0
        var lastContentWriteNanos: UInt64?
        var traceEntries: [TraceRecorder.Entry] = []
        var blockCount = 0
        var openBlock: AnthropicEvents.Block?
        var deltaPrefix = ByteBuffer()
        var deltaSuffix = ByteBuffer()
        var midStreamDone = false
        var finished = false

        init(tracing: Bool) { self.tracing = tracing }
    }
}
