import LLMPerfClient
import LLMPerfCore

/// Feeds a recorded stream to an `SSEParser` (or, for an NDJSON dialect, an `NDJSONLineFramer`,
/// each line an event's data) and a dialect in given pieces, as the transport would, and collects
/// what came out.
struct StreamReplay: Equatable {
    var events: [SSEEvent] = []
    var text = ""
    var chunks = 0
    var tokens: [UInt32] = []
    var reasoning: [Bool] = []
    var usage: TokenUsage?
    var serverTimings: ServerTimings?
    var done = false
    var finished = false
    var failure: FailureKind?

    static func run(_ bytes: [UInt8], splits: [Int], dialect: any APIDialect) -> StreamReplay {
        var parser = SSEParser()
        var lines = NDJSONLineFramer()
        let ndjson = dialect.streamFraming == .newlineDelimitedJSON
        var response = ResponseAccumulator()
        var out = StreamReplay()
        var cuts = [0] + splits.filter { $0 > 0 && $0 < bytes.count }.sorted() + [bytes.count]
        cuts = cuts.reduce(into: []) { if $0.last != $1 { $0.append($1) } }
        bytes.withUnsafeBytes { raw in
            for k in 0..<(cuts.count - 1) {
                let piece = UnsafeRawBufferPointer(rebasing: raw[cuts[k]..<cuts[k + 1]])
                response.eventAtNanos = UInt64(k)
                if ndjson {
                    lines.feed(piece) { line in
                        out.events.append(SSEEvent(data: String(decoding: line, as: UTF8.self)))
                        dialect.decodeStreamEvent(
                            name: UnsafeRawBufferPointer(start: nil, count: 0), data: line, into: &response)
                    }
                    continue
                }
                parser.feed(piece) { event in
                    out.events.append(
                        SSEEvent(
                            name: String(decoding: event.name, as: UTF8.self),
                            data: String(decoding: event.data, as: UTF8.self),
                            id: String(decoding: event.id, as: UTF8.self)))
                    dialect.decodeStreamEvent(name: event.name, data: event.data, into: &response)
                }
            }
        }
        if ndjson {
            // The body's end hands over a last line without "\n", as the transport does.
            lines.finish { line in
                out.events.append(SSEEvent(data: String(decoding: line, as: UTF8.self)))
                dialect.decodeStreamEvent(
                    name: UnsafeRawBufferPointer(start: nil, count: 0), data: line, into: &response)
            }
        }
        out.text = response.outputText
        out.chunks = response.contentChunkCount
        out.tokens = response.chunkTokens
        out.reasoning = response.chunkReasoning
        out.usage = response.usage
        out.serverTimings = response.serverTimings
        out.done = response.sawDone
        out.finished = response.sawFinish
        out.failure = response.failureKind
        return out
    }
}
