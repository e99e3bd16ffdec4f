import HummingbirdCore
import NIOCore

/// Streams one `/v1/responses` answer as the Responses API's typed SSE events (see `ResponsesEvents`), at
/// the engine's pace: `response.created` and `response.in_progress` at once, then one delta per generated
/// piece (the first at ttft, then one per itl), each output item added when its first piece arrives and
/// closed when a piece of another kind does, then `response.completed` (`response.incomplete` at the
/// length limit) with the whole output and usage.
///
/// Healthy answers are written as `CompletionStreamWriter` writes them, what is ready in one write; with a
/// fault every event is written on its own, framed by the fault (`crlf`, `ping_comments`, `drip`). The
/// mid-stream faults (`reset_mid_stream`, `stall_mid_stream`, `overloaded_mid_stream`: an `error` event
/// with code `server_is_overloaded`, then the end) happen once `after` content events were sent, or before
/// the final event when the answer has fewer.
///
/// Trace: `response.created` is `role`; every delta, and a `function_call` item's addition (its `name` is
/// the call's first content, as the client's Responses dialect counts it), is `first_token`/`token`; the
/// final event is `done`. The other events are not traced but keep an index.
struct ResponsesStreamWriter: Sendable {
    static let flushBytes = CompletionStreamWriter.flushBytes

    let events: ResponsesEvents
    let stream: GenerationStream
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
        let inProgress = events.response(status: "in_progress", output: "[]", usage: "null")
        try await send("response.created", "\"response\":" + inProgress, trace: .role, &state, &writer)
        try await send("response.in_progress", "\"response\":" + inProgress, trace: nil, &state, &writer)
        try await flush(&state, &writer)
        if fault == .stallFirstToken { try await MonotonicClock.sleep(for: faultConfiguration.stall) }
        var finish = GenerationFinish(reason: .stop)
        for try await batch in stream {
            for piece in batch.pieces {
                state.outputTokens += piece.tokenCount
                state.pendingTokens += piece.tokenCount
                switch piece.kind {
                case .reasoning:
                    state.reasoningTokens += piece.tokenCount
                    try await delta(piece.text, in: .reasoning, &state, &writer)
                case .toolCall(let id, let name):
                    try await open(.functionCall(callID: id, name: name), tracedAsContent: true, &state, &writer)
                    // A one-token call's opening holds its whole arguments: no delta of its own follows.
                    state.openText = piece.text
                case .toolArguments:
                    try await delta(piece.text, in: state.openItem ?? .message, &state, &writer)
                case .content:
                    try await delta(piece.text, in: .message, &state, &writer)
                }
                if state.buffer.readableBytes >= Self.flushBytes { try await flush(&state, &writer) }
            }
            if let batchFinish = batch.finish {
                finish = batchFinish
                break
            }
            try await flush(&state, &writer)
        }
        state.finished = true
        try await midStreamFault(&state, &writer)
        if state.items.isEmpty && state.openItem == nil {
            try await open(.message, tracedAsContent: false, &state, &writer)
        }
        try await closeItem(&state, &writer)
        let incomplete = finish.reason == .length
        let final = events.response(
            status: incomplete ? "incomplete" : "completed", output: "[" + state.items.joined(separator: ",") + "]",
            usage: events.usage(outputTokens: state.outputTokens, reasoningTokens: state.reasoningTokens),
            incomplete: incomplete)
        try await send(
            incomplete ? "response.incomplete" : "response.completed", "\"response\":" + final, trace: .done, &state,
            &writer)
        try await flush(&state, &writer)
        try await writer.finish(nil)
    }

    /// One delta of `item`, adding that item first when another one (or none) is open.
    private func delta(
        _ text: String, in item: ResponsesEvents.Item, _ state: inout State, _ writer: inout any ResponseBodyWriter
    ) async throws {
        if state.contentEvents >= faultConfiguration.after { try await midStreamFault(&state, &writer) }
        if state.openItem != item { try await open(item, tracedAsContent: false, &state, &writer) }
        state.buffer.writeImmutableBuffer(state.deltaPrefix)
        JSONText.writeEscaped(text, to: &state.buffer)
        state.buffer.writeImmutableBuffer(state.deltaSuffix)
        state.buffer.writeString(String(state.eventIndex))
        state.buffer.writeStaticString("}\n\n")
        state.openText += text
        state.traceContent()
        if fault != .none { try await flush(&state, &writer) }
    }

    /// Closes the open item and adds `item` (a function call's addition counts as a content event).
    private func open(
        _ item: ResponsesEvents.Item, tracedAsContent: Bool, _ state: inout State,
        _ writer: inout any ResponseBodyWriter
    ) async throws {
        try await closeItem(&state, &writer)
        let index = state.items.count
        state.openItem = item
        state.openText = ""
        (state.deltaPrefix, state.deltaSuffix) = events.deltaFraming(item, index: index)
        let added = "\"output_index\":\(index),\"item\":" + events.item(item, index: index, text: "", done: false)
        if tracedAsContent {
            if state.contentEvents >= faultConfiguration.after { try await midStreamFault(&state, &writer) }
            state.buffer.writeImmutableBuffer(
                ResponsesEvents.event("response.output_item.added", sequence: state.eventIndex, added))
            state.traceContent()
            if fault != .none { try await flush(&state, &writer) }
        } else {
            try await send("response.output_item.added", added, trace: nil, &state, &writer)
        }
        if item == .message {
            try await send(
                "response.content_part.added", part(index: index, ResponsesEvents.outputTextPart("")), trace: nil,
                &state, &writer)
        }
    }

    private func part(index: Int, _ fields: String) -> String {
        var out = "\"item_id\":"
        JSONText.appendQuoted(events.itemID(.message, index: index), to: &out)
        return out + ",\"output_index\":\(index),\"content_index\":0,\"part\":" + fields
    }

    /// The closing events of the open item: its text's `.done` event, the part's for a message, and
    /// `response.output_item.done` with the finished item (kept for the final response).
    private func closeItem(_ state: inout State, _ writer: inout any ResponseBodyWriter) async throws {
        guard let item = state.openItem else { return }
        let index = state.items.count
        var fields = "\"item_id\":"
        JSONText.appendQuoted(events.itemID(item, index: index), to: &fields)
        fields += ",\"output_index\":\(index)"
        switch item {
        case .reasoning:
            fields += ",\"content_index\":0,\"text\":"
            JSONText.appendQuoted(state.openText, to: &fields)
            try await send("response.reasoning_text.done", fields, trace: nil, &state, &writer)
        case .message:
            var text = fields + ",\"content_index\":0,\"text\":"
            JSONText.appendQuoted(state.openText, to: &text)
            try await send("response.output_text.done", text, trace: nil, &state, &writer)
            try await send(
                "response.content_part.done", part(index: index, ResponsesEvents.outputTextPart(state.openText)),
                trace: nil, &state, &writer)
        case .functionCall:
            fields += ",\"arguments\":"
            JSONText.appendQuoted(state.openText, to: &fields)
            try await send("response.function_call_arguments.done", fields, trace: nil, &state, &writer)
        }
        let done = events.item(item, index: index, text: state.openText, done: true)
        try await send(
            "response.output_item.done", "\"output_index\":\(index),\"item\":" + done, trace: nil, &state, &writer)
        state.items.append(done)
        state.openItem = nil
        state.openText = ""
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
                "error", "\"code\":\"\(ResponsesEvents.overloadedCode)\",\"message\":\"Overloaded\",\"param\":null",
                trace: nil, &state, &writer)
            try await flush(&state, &writer)
            throw EndedEarly()
        default:
            break
        }
    }

    /// Adds a whole event (numbered in sequence); with a fault, writes it at once.
    private func send(
        _ type: String, _ fields: String, trace kind: TraceRecorder.Kind?, _ state: inout State,
        _ writer: inout any ResponseBodyWriter
    ) async throws {
        state.append(ResponsesEvents.event(type, sequence: state.eventIndex, fields), trace: kind)
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
        var buffer = ByteBufferAllocator().buffer(capacity: ResponsesStreamWriter.flushBytes + 1024)
        var eventIndex = 0
        var contentEvents = 0
        var outputTokens = 0
        var reasoningTokens = 0
        var pendingTokens = 0
        var lastContentWriteNanos: UInt64?
        var traceEntries: [TraceRecorder.Entry] = []
        /// The finished items as JSON, for the final response.
        var items: [String] = []
        var openItem: ResponsesEvents.Item?
        var openText = ""
        var deltaPrefix = ByteBuffer()
        var deltaSuffix = ByteBuffer()
        var midStreamDone = false
        var finished = false

        init(tracing: Bool) { self.tracing = tracing }
    }
}
