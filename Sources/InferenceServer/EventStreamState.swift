import HummingbirdCore
import NIOCore

/// What a writer of typed SSE events (`AnthropicStreamWriter`, `ResponsesStreamWriter`) has rendered but not
/// yet written, and the counts its trace and `/metrics` need. Each writer's state adds where its answer
/// stands; rendering an event, tracing it and writing what is ready are the same for all.
protocol EventStreamState {
    var tracing: Bool { get }
    var buffer: ByteBuffer { get set }
    /// Events rendered so far (their index in the trace).
    var eventIndex: Int { get set }
    /// Content events rendered so far (a client's chunks).
    var contentEvents: Int { get set }
    /// Tokens rendered since the last write (for `/metrics`).
    var pendingTokens: Int { get set }
    var lastContentWriteNanos: UInt64? { get set }
    var traceEntries: [TraceRecorder.Entry] { get set }
}

extension EventStreamState {
    /// A content event was rendered: trace it as the client counts it.
    mutating func traceContent() {
        if tracing {
            traceEntries.append(.init(index: eventIndex, kind: contentEvents == 0 ? .firstToken : .token))
        }
        contentEvents += 1
        eventIndex += 1
    }

    /// Adds a whole event, traced as `kind` when it has one.
    mutating func append(_ event: ByteBuffer, trace kind: TraceRecorder.Kind?) {
        buffer.writeImmutableBuffer(event)
        if tracing, let kind { traceEntries.append(.init(index: eventIndex, kind: kind)) }
        eventIndex += 1
    }

    /// Writes what is ready in one write, framed by the fault (`ping_comments`, `crlf`, `drip`), counts the
    /// tokens it carried in `/metrics`, and stamps the trace with the write's time.
    mutating func flush(
        to writer: inout any ResponseBodyWriter, fault: ServerFault, faultConfiguration: FaultConfiguration,
        metrics: ServerMetrics, arrivalNanos: UInt64, trace: TraceRecorder?, traceID: [UInt8]
    ) async throws {
        guard buffer.readableBytes > 0 else { return }
        let now = MonotonicClock.nowNanos()
        if pendingTokens > 0 && contentEvents > 0 {
            if let last = lastContentWriteNanos {
                metrics.tokensWritten(pendingTokens, gapNanos: now &- last, ttftNanos: nil)
            } else {
                metrics.tokensWritten(pendingTokens, gapNanos: nil, ttftNanos: now &- arrivalNanos)
            }
            lastContentWriteNanos = now
            pendingTokens = 0
        }
        var out = buffer
        buffer = ByteBufferAllocator().buffer(
            capacity: fault == .none ? CompletionStreamWriter.flushBytes + 1024 : 256)
        switch fault {
        case .pingComments:
            var framed = ByteBuffer(string: ": ping\n\n")
            framed.writeImmutableBuffer(out)
            out = framed
        case .crlf:
            var framed = ByteBuffer()
            framed.reserveCapacity(out.readableBytes + 16)
            for byte in out.readableBytesView {
                if byte == 0x0A { framed.writeInteger(UInt8(0x0D)) }
                framed.writeInteger(byte)
            }
            out = framed
        default:
            break
        }
        if fault == .drip {
            try await FaultStreamWriter.drip(out, every: faultConfiguration.drip, to: &writer)
        } else {
            try await writer.write(out)
        }
        if let trace {
            trace.record(requestID: traceID, entries: traceEntries, nanos: now)
            traceEntries.removeAll(keepingCapacity: true)
        }
    }
}
