import Benchmark
import BenchmarkSupport
import LLMPerfClient

/// The client's hot path: an OpenAI chat stream of 10,000 content events (about 2.1 MB)
/// framed by `SSEParser` and decoded by the chat dialect; Anthropic Messages, OpenAI Responses,
/// llama.cpp, TGI and Ollama (NDJSON) streams of 10,000 content events each decoded by its dialect; and `JSONCursor` on the OpenAI chunks as one
/// JSON document.
let benchmarks: @Sendable () -> Void = {
    let recording = StreamRecording(contentEvents: 10_000, seed: 42)
    let anthropic = AnthropicStreamRecording(contentEvents: 10_000, seed: 42)
    let responses = ResponsesStreamRecording(contentEvents: 10_000, seed: 42)
    let llamaCpp = NativeStreamRecording(.llamaCpp, contentEvents: 10_000, seed: 42)
    let tgi = NativeStreamRecording(.tgi, contentEvents: 10_000, seed: 42)
    let ollama = NativeStreamRecording(.ollama, contentEvents: 10_000, seed: 42)

    Benchmark(
        "sse-framer-10k-events", configuration: BenchmarkSupport.configuration(maxIterations: 200, mallocSlack: 2)
    ) { benchmark in
        var events = 0
        var parser = SSEParser(maxEventBytes: 1 << 24)
        recording.forEachPiece { piece in
            parser.feed(piece) { event in events += event.data.count > 0 ? 1 : 0 }
        }
        precondition(events == recording.eventCount, "framed \(events) of \(recording.eventCount) events")
        blackHole(events)
    }

    Benchmark(
        "sse-openai-decode-10k-events",
        configuration: BenchmarkSupport.configuration(maxIterations: 200, mallocSlack: 2)
    ) { benchmark in
        let dialect = OpenAIChatDialect()
        var parser = SSEParser(maxEventBytes: 1 << 24)
        var response = ResponseAccumulator()
        var offset: UInt64 = 0
        recording.forEachPiece { piece in
            offset &+= UInt64(piece.count)
            parser.feed(piece) { event in
                response.eventAtNanos = offset
                dialect.decodeStreamEvent(name: event.name, data: event.data, into: &response)
            }
        }
        precondition(response.contentChunkCount == recording.contentEvents && response.sawDone)
        blackHole(response)
    }

    Benchmark(
        "sse-anthropic-decode-10k-events",
        configuration: BenchmarkSupport.configuration(maxIterations: 200, mallocSlack: 2)
    ) { benchmark in
        let dialect = AnthropicDialect()
        var parser = SSEParser(maxEventBytes: 1 << 24)
        var response = ResponseAccumulator()
        var offset: UInt64 = 0
        anthropic.forEachPiece { piece in
            offset &+= UInt64(piece.count)
            parser.feed(piece) { event in
                response.eventAtNanos = offset
                dialect.decodeStreamEvent(name: event.name, data: event.data, into: &response)
            }
        }
        precondition(response.contentChunkCount == anthropic.contentEvents && response.sawDone)
        precondition(response.chunkReasoning.filter { $0 }.count == anthropic.contentEvents / 4)
        blackHole(response)
    }

    Benchmark(
        "sse-responses-decode-10k-events",
        configuration: BenchmarkSupport.configuration(maxIterations: 200, mallocSlack: 2)
    ) { benchmark in
        let dialect = OpenAIResponsesDialect()
        var parser = SSEParser(maxEventBytes: 1 << 24)
        var response = ResponseAccumulator()
        var offset: UInt64 = 0
        responses.forEachPiece { piece in
            offset &+= UInt64(piece.count)
            parser.feed(piece) { event in
                response.eventAtNanos = offset
                dialect.decodeStreamEvent(name: event.name, data: event.data, into: &response)
            }
        }
        precondition(response.contentChunkCount == responses.contentEvents && response.sawDone)
        precondition(response.chunkReasoning.filter { $0 }.count == responses.contentEvents / 4)
        precondition(response.usage?.reasoningTokens == responses.contentEvents / 4)
        blackHole(response)
    }

    for (name, recording, dialect) in [
        ("sse-llamacpp-decode-10k-events", llamaCpp, LlamaCppDialect() as any APIDialect),
        ("sse-tgi-decode-10k-events", tgi, TGIDialect()),
    ] {
        Benchmark(name, configuration: BenchmarkSupport.configuration(maxIterations: 200, mallocSlack: 2)) {
            benchmark in
            var parser = SSEParser(maxEventBytes: 1 << 24)
            var response = ResponseAccumulator()
            var offset: UInt64 = 0
            recording.forEachPiece { piece in
                offset &+= UInt64(piece.count)
                parser.feed(piece) { event in
                    response.eventAtNanos = offset
                    dialect.decodeStreamEvent(name: event.name, data: event.data, into: &response)
                }
            }
            precondition(response.contentChunkCount == recording.contentEvents && dialect.streamIsComplete(response))
            precondition(response.usage?.completionTokens == recording.contentEvents)
            blackHole(response)
        }
    }

    Benchmark(
        "ndjson-ollama-decode-10k-lines",
        configuration: BenchmarkSupport.configuration(maxIterations: 200, mallocSlack: 2)
    ) { benchmark in
        let dialect = OllamaDialect()
        var framer = NDJSONLineFramer(maxLineBytes: 1 << 24)
        var response = ResponseAccumulator()
        var offset: UInt64 = 0
        let noName = UnsafeRawBufferPointer(start: nil, count: 0)
        ollama.forEachPiece { piece in
            offset &+= UInt64(piece.count)
            framer.feed(piece) { line in
                response.eventAtNanos = offset
                dialect.decodeStreamEvent(name: noName, data: line, into: &response)
            }
        }
        precondition(response.contentChunkCount == ollama.contentEvents && dialect.streamIsComplete(response))
        precondition(response.chunkReasoning.filter { $0 }.count == ollama.contentEvents / 4)
        blackHole(response)
    }

    Benchmark(
        "jsoncursor-skip-10k-chunks", configuration: BenchmarkSupport.configuration(maxIterations: 500, mallocSlack: 2)
    ) { benchmark in
        recording.document.withUnsafeBytes { bytes in
            var cursor = JSONCursor(bytes)
            let valid = cursor.skipValue() && cursor.atEnd
            precondition(valid, "the chunk document is valid JSON")
            blackHole(valid)
        }
    }

    Benchmark(
        "jsoncursor-strings-10k", configuration: BenchmarkSupport.configuration(maxIterations: 500, mallocSlack: 2)
    ) { benchmark in
        var text: [UInt8] = []
        text.reserveCapacity(recording.contentBytes)
        recording.strings.withUnsafeBytes { bytes in
            var cursor = JSONCursor(bytes)
            var count = 0
            guard cursor.consume(UInt8(ascii: "[")) else { preconditionFailure("an array") }
            repeat {
                guard cursor.appendString(to: &text) else { preconditionFailure("a string") }
                count += 1
            } while cursor.consume(UInt8(ascii: ","))
            precondition(cursor.consume(UInt8(ascii: "]")) && count == recording.contentEvents)
        }
        blackHole(text)
    }
}
