import HummingbirdCore
import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Streams one completion with a fault put in (see `ServerFault`). Unlike `CompletionStreamWriter` it writes
/// every event on its own (and, under `drip`, every byte), so what each fault does is visible on the wire;
/// healthy responses never come here.
///
/// Mid-stream faults (`reset_mid_stream`, `stall_mid_stream`, `malformed_json`) happen once `after` content
/// events were sent; when the answer has fewer, they happen before the finish event. `invalid_utf8` and
/// `huge_event` alter content event number `after` (or the last one when there are fewer).
struct FaultStreamWriter: Sendable {
    let fault: ServerFault
    let configuration: FaultConfiguration
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
    /// The connection, for the resets.
    let connection: (any Channel)?

    /// The length of the `huge_event` content string.
    static let hugeContentBytes = 4 << 20

    private struct State {
        var eventIndex = 0
        var contentEvents = 0
        var completionTokens = 0
        var reasoningTokens = 0
        var roleSent = false
        var midStreamDone = false
        var contentAltered = false
        var lastContentNanos: UInt64?
    }

    func write(to writer: inout any ResponseBodyWriter) async throws {
        metrics.generationStarted(promptTokens: promptTokens)
        var state = State()
        var finished = false
        defer {
            if !finished { stream.cancel() }
            metrics.generationEnded(arrivalNanos: arrivalNanos, endNanos: MonotonicClock.nowNanos())
        }
        if endpoint == .chat && !stream.opensWithToolCall {
            try await send(templates.roleEvent, kind: .role, state: &state, to: &writer)
            state.roleSent = true
        }
        if fault == .emptyChoices {
            for _ in 0..<3 { try await send(templates.emptyChoicesEvent, kind: nil, state: &state, to: &writer) }
        }
        if fault == .stallFirstToken { try await MonotonicClock.sleep(for: configuration.stall) }
        var matcher = stop.isEmpty ? nil : StopSequenceMatcher(sequences: stop)
        var finish = GenerationFinish(reason: .stop)
        var pendingText = ""
        var pendingTokens = 0
        // Pieces of one kind only are grouped into an event (reasoning, answer text, tool arguments).
        var pendingKind = GeneratedPiece.Kind.content
        let perEvent = fault == .multiTokenEvents ? max(1, configuration.tokensPerEvent) : 1
        generation: for try await batch in stream {
            for (position, piece) in batch.pieces.enumerated() {
                let isLast = batch.finish != nil && position == batch.pieces.count - 1
                if piece.kind != pendingKind && (pendingTokens > 0 || !pendingText.isEmpty) {
                    try await sendContent(
                        pendingText, kind: pendingKind, tokens: pendingTokens, isLast: false, &state, &writer)
                    pendingText = ""
                    pendingTokens = 0
                }
                if case .toolCall(let id, let name) = piece.kind {
                    state.completionTokens += piece.tokenCount
                    if let event = templates.toolCallEvent(
                        id: id, name: name, arguments: piece.text, carriesRole: !state.roleSent)
                    {
                        state.roleSent = true
                        try await sendOpening(event, &state, &writer)
                    }
                    continue
                }
                pendingKind = piece.kind
                state.completionTokens += piece.tokenCount
                if piece.kind == .reasoning { state.reasoningTokens += piece.tokenCount }
                pendingTokens += piece.tokenCount
                var matched = false
                if matcher == nil || piece.kind != .content {
                    pendingText += piece.text
                } else {
                    let (text, didMatch) = matcher!.feed(piece.text)
                    pendingText += text
                    matched = didMatch
                }
                if matched {
                    stream.cancel()
                    finished = true
                    matcher = nil
                    finish = GenerationFinish(reason: .stop)
                    break generation
                }
                if pendingTokens >= perEvent || isLast {
                    try await sendContent(
                        pendingText, kind: pendingKind, tokens: pendingTokens, isLast: isLast, &state, &writer)
                    pendingText = ""
                    pendingTokens = 0
                }
            }
            if let batchFinish = batch.finish {
                finished = true
                finish = batchFinish
                break
            }
        }
        finished = true
        if let tail = matcher?.drain() { pendingText += tail }
        if pendingTokens > 0 || !pendingText.isEmpty {
            try await sendContent(pendingText, kind: pendingKind, tokens: pendingTokens, isLast: true, &state, &writer)
        }
        try await midStreamFault(&state, &writer)
        try await send(templates.finishEvent(finish.reason), kind: .finish, state: &state, to: &writer)
        if includeUsage {
            let usage = CompletionUsage(
                promptTokens: promptTokens, completionTokens: state.completionTokens, details: finish.usageDetails,
                reasoningTokens: state.reasoningTokens > 0 ? state.reasoningTokens : nil)
            try await send(templates.usageEvent(usage), kind: .usage, state: &state, to: &writer)
        }
        if fault != .noDone {
            try await send(SSEChunkTemplates.done, kind: .done, state: &state, to: &writer)
        }
        try await writer.finish(nil)
    }

    /// A tool call's opening event: a content event for the faults' count and the trace (its token is
    /// counted by the caller).
    private func sendOpening(
        _ event: ByteBuffer, _ state: inout State, _ writer: inout any ResponseBodyWriter
    ) async throws {
        if state.contentEvents >= configuration.after { try await midStreamFault(&state, &writer) }
        let kind: TraceRecorder.Kind = state.contentEvents == 0 ? .firstToken : .token
        state.contentEvents += 1
        try await send(event, kind: kind, state: &state, to: &writer)
    }

    private func sendContent(
        _ text: String, kind pieceKind: GeneratedPiece.Kind, tokens: Int, isLast: Bool, _ state: inout State,
        _ writer: inout any ResponseBodyWriter
    ) async throws {
        if state.contentEvents >= configuration.after { try await midStreamFault(&state, &writer) }
        let (prefix, suffix) = templates.framing(of: pieceKind)
        var event = ByteBuffer()
        event.writeImmutableBuffer(prefix)
        JSONText.writeEscaped(text, to: &event)
        if (fault == .invalidUTF8 || fault == .hugeEvent) && !state.contentAltered
            && (state.contentEvents >= configuration.after || isLast)
        {
            state.contentAltered = true
            if fault == .invalidUTF8 {
                event.writeBytes([0xFF, 0xFE])
            } else {
                let padding = max(0, Self.hugeContentBytes - text.utf8.count)
                event.writeRepeatingByte(UInt8(ascii: "x"), count: padding)
            }
        }
        event.writeImmutableBuffer(suffix)
        let now = MonotonicClock.nowNanos()
        if tokens > 0 {
            if let last = state.lastContentNanos {
                metrics.tokensWritten(tokens, gapNanos: now &- last, ttftNanos: nil)
            } else {
                metrics.tokensWritten(tokens, gapNanos: nil, ttftNanos: now &- arrivalNanos)
            }
            state.lastContentNanos = now
        }
        let kind: TraceRecorder.Kind = state.contentEvents == 0 ? .firstToken : .token
        state.contentEvents += 1
        try await send(event, kind: kind, state: &state, to: &writer)
    }

    /// The mid-stream fault, once.
    private func midStreamFault(_ state: inout State, _ writer: inout any ResponseBodyWriter) async throws {
        guard !state.midStreamDone else { return }
        state.midStreamDone = true
        switch fault {
        case .resetMidStream:
            await Self.reset(connection)
            throw FaultInjected.connectionReset
        case .stallMidStream:
            try await MonotonicClock.sleep(for: configuration.stall)
        case .malformedJSON:
            // The start of a content event, cut off inside its JSON string.
            var event = ByteBuffer()
            event.writeImmutableBuffer(templates.contentPrefix)
            event.writeString("trunc\n\n")
            try await send(event, kind: nil, state: &state, to: &writer)
        default:
            break
        }
    }

    /// Writes one event (with the fault's framing) and traces it.
    private func send(
        _ event: ByteBuffer, kind: TraceRecorder.Kind?, state: inout State, to writer: inout any ResponseBodyWriter
    ) async throws {
        var out = ByteBuffer()
        switch fault {
        case .pingComments:
            out.writeString(": ping\n\n")
            out.writeImmutableBuffer(event)
        case .crlf:
            out.reserveCapacity(event.readableBytes + 8)
            for byte in event.readableBytesView {
                if byte == 0x0A { out.writeInteger(UInt8(0x0D)) }
                out.writeInteger(byte)
            }
        default:
            out = event
        }
        let index = state.eventIndex
        state.eventIndex += 1
        if fault == .drip {
            try await Self.drip(out, every: configuration.drip, to: &writer)
        } else {
            try await writer.write(out)
        }
        if let trace, let kind {
            trace.record(
                requestID: traceID, entries: [.init(index: index, kind: kind)], nanos: MonotonicClock.nowNanos())
        }
    }

    /// Writes `bytes` one byte per write, `interval` apart.
    static func drip(_ bytes: ByteBuffer, every interval: Duration, to writer: inout any ResponseBodyWriter)
        async throws
    {
        var first = true
        for byte in bytes.readableBytesView {
            if !first { try await MonotonicClock.sleep(for: interval) }
            first = false
            var one = ByteBuffer()
            one.writeInteger(byte)
            try await writer.write(one)
        }
    }

    /// Resets the connection: SO_LINGER 0, then close, so the peer gets an RST instead of a FIN. Runs on the
    /// connection's event loop after every write already handed to it.
    static func reset(_ connection: (any Channel)?) async {
        guard let channel = connection else { return }
        let future = channel.eventLoop.flatSubmit { () -> EventLoopFuture<Void> in
            let lingered =
                (channel as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0))
                ?? channel.eventLoop.makeSucceededVoidFuture()
            return lingered.flatMap { channel.close() }
        }
        try? await future.get()
    }
}

/// Ends a response that a fault cut short.
enum FaultInjected: Error {
    case connectionReset
}

extension MonotonicClock {
    /// Sleeps for `duration` on the monotonic clock (see `sleep(untilNanos:)`).
    static func sleep(for duration: Duration) async throws {
        guard duration > .zero else {
            await Task.yield()
            return
        }
        try await sleep(untilNanos: nowNanos() &+ duration.wholeNanoseconds)
    }
}
