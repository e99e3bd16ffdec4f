import FuzzDriver
import LLMPerfClient
import LLMPerfCore

/// libFuzzer entry: the input is a response body, cut into pieces at points chosen by its first
/// byte (as the network cuts it), framed as its dialect frames it (`SSEParser`, or
/// `NDJSONLineFramer` for Ollama) and decoded by the dialect that byte's top three bits pick (see
/// `dialect(for:)`). It must never crash; the decoded response must stay consistent (one token
/// count per content chunk, a reasoning flag per chunk once any is flagged, output text within its
/// cap) and must not depend on where the bytes were cut.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSSEStream(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let cutSeed = bytes[0]
    let body = UnsafeRawBufferPointer(rebasing: bytes[1...])
    if cutSeed >> 5 == 6 { return fuzzEmbeddingsBody(body, expectedInputs: Int(cutSeed & 0x07) + 1) }
    let dialect = dialect(for: cutSeed)
    let whole = decode(body, with: dialect, pieceLength: { _ in body.count })
    var state = UInt32(cutSeed) &* 2_654_435_761 | 1
    let cut = decode(body, with: dialect) { _ in
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        return Int(state % 64) + 1
    }
    for response in [whole, cut] {
        precondition(response.chunkAtNanos.count == response.chunkTokens.count, "a token count per chunk")
        precondition(
            response.chunkReasoning.isEmpty || response.chunkReasoning.count == response.chunkAtNanos.count,
            "a reasoning flag per chunk")
        precondition(response.text.count <= ResponseAccumulator.textCapBytes, "output text within its cap")
    }
    precondition(whole.chunkTokens == cut.chunkTokens, "chunks depend on where the bytes were cut")
    precondition(whole.chunkReasoning == cut.chunkReasoning, "reasoning flags depend on where the bytes were cut")
    precondition(whole.text == cut.text, "text depends on where the bytes were cut")
    precondition(whole.sawDone == cut.sawDone && whole.usage == cut.usage, "ending depends on the cuts")
    precondition(whole.failureKind == cut.failureKind, "failure depends on the cuts")
    precondition(whole.serverTimings == cut.serverTimings, "server timings depend on the cuts")
    return 0
}

/// An embeddings answer (seeds 0xc0–0xdf; the low three bits + 1 are the inputs sent): decoded whole,
/// as the transfer does. It never records a content chunk; an answer it accepts holds no output tokens
/// and says what came.
func fuzzEmbeddingsBody(_ body: UnsafeRawBufferPointer, expectedInputs: Int) -> CInt {
    var response = ResponseAccumulator()
    response.expectedInputs = expectedInputs
    OpenAIEmbeddingsDialect().decodeBody(body, into: &response)
    precondition(response.chunkAtNanos.isEmpty, "an embeddings answer records no content chunk")
    if response.failureKind == nil {
        precondition(response.sawDone && response.usage?.completionTokens == 0, "an accepted answer is complete")
        precondition(response.outputText.hasPrefix("\(expectedInputs) embedding"), "as many embeddings as inputs")
    }
    return 0
}

/// The dialect a seed's first byte picks by its top three bits: 0x00–0x1f and 0xe0–0xff OpenAI chat,
/// 0x20 the Responses API, 0x40 llama.cpp, 0x60 TGI, 0x80 Anthropic, 0xa0 Ollama (NDJSON); 0xc0 is
/// an embeddings answer (`fuzzEmbeddingsBody`).
func dialect(for seed: UInt8) -> any APIDialect {
    switch seed >> 5 {
    case 1: return OpenAIResponsesDialect()
    case 2: return LlamaCppDialect()
    case 3: return TGIDialect()
    case 4: return AnthropicDialect()
    case 5: return OllamaDialect()
    default: return OpenAIChatDialect()
    }
}

/// Feeds `body` to `dialect`'s framer in pieces of `pieceLength(offset)` bytes; returns what
/// `dialect` decoded.
func decode(
    _ body: UnsafeRawBufferPointer, with dialect: any APIDialect, pieceLength: (Int) -> Int
) -> ResponseAccumulator {
    if dialect.streamFraming == .newlineDelimitedJSON {
        return decodeLines(body, with: dialect, pieceLength: pieceLength)
    }
    var parser = SSEParser(maxEventBytes: 1 << 16)
    var response = ResponseAccumulator()
    var offset = 0
    while offset < body.count {
        let end = min(body.count, offset + max(1, pieceLength(offset)))
        parser.feed(UnsafeRawBufferPointer(rebasing: body[offset..<end])) { event in
            response.eventAtNanos = UInt64(offset)
            dialect.decodeStreamEvent(name: event.name, data: event.data, into: &response)
        }
        offset = end
    }
    return response
}

/// As `decode`, with NDJSON lines (a last line without a newline handed over at the end, as the
/// transfer does).
func decodeLines(
    _ body: UnsafeRawBufferPointer, with dialect: any APIDialect, pieceLength: (Int) -> Int
) -> ResponseAccumulator {
    var framer = NDJSONLineFramer(maxLineBytes: 1 << 16)
    var response = ResponseAccumulator()
    let noName = UnsafeRawBufferPointer(start: nil, count: 0)
    var offset = 0
    while offset < body.count {
        let end = min(body.count, offset + max(1, pieceLength(offset)))
        framer.feed(UnsafeRawBufferPointer(rebasing: body[offset..<end])) { line in
            response.eventAtNanos = UInt64(offset)
            dialect.decodeStreamEvent(name: noName, data: line, into: &response)
        }
        offset = end
    }
    framer.finish { line in dialect.decodeStreamEvent(name: noName, data: line, into: &response) }
    return response
}

/// The executable's entry point (SwiftPM's name for it): libFuzzer with this target's input.
@_cdecl("FuzzSSEStream_main")
public func fuzzSSEStreamMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    llmperf_fuzz_main(argc, argv) { data, size in
        guard let data else { return 0 }
        return fuzzSSEStream(data, size)
    }
}
