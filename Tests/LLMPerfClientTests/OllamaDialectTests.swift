import Foundation
import LLMPerfClient
import LLMPerfCore
import Testing

/// Ollama's native API: request bodies for /api/chat and /api/generate, the NDJSON line framer,
/// and what each line yields. The fixtures follow the shapes of Ollama's API reference
/// (github.com/ollama/ollama, docs/api.md: "Generate a chat completion" with thinking and with
/// tools, "Generate a completion"; an `{"error": …}` line as Ollama writes an error after it
/// has answered 200). Each is replayed whole, at every two-way split, byte by byte and with CRLF
/// line ends, with the same result.
@Suite struct OllamaDialectTests {
    static let fixtures = [
        "ollama_chat_thinking.ndjson", "ollama_generate_stream.ndjson", "ollama_chat_tool_call.ndjson",
        "ollama_chat_error.ndjson",
    ]

    static func dialect(_ name: String) -> OllamaDialect {
        OllamaDialect(kind: name.contains("generate") ? .ollamaGenerate : .ollama)
    }

    func replay(_ name: String, splits: [Int] = []) throws -> StreamReplay {
        StreamReplay.run(try Fixture.bytes(name), splits: splits, dialect: Self.dialect(name))
    }

    @Test func chatThinkingThenTextWithCounts() throws {
        let r = try replay("ollama_chat_thinking.ndjson")
        #expect(r.events.count == 7)
        #expect(r.failure == nil && r.done && r.finished)
        #expect(r.chunks == 6 && r.tokens == [1, 1, 1, 1, 1, 1])
        #expect(r.reasoning == [true, true, true, false, false, false])
        #expect(r.text == "Compare the decimals: 9.8 > 9.11.9.8 is \"larger\".\u{e9}")
        #expect(r.usage == TokenUsage(promptTokens: 26, completionTokens: 6))
        // The last object's durations, as the server's own timings.
        #expect(
            r.serverTimings
                == ServerTimings(
                    promptNanos: 42_546_000, generationNanos: 120_018_000, totalNanos: 648_326_000,
                    loadNanos: 12_345_000))
    }

    @Test func generateSkipsEmptyResponsesAndKeepsTheCounts() throws {
        let r = try replay("ollama_generate_stream.ndjson")
        #expect(r.failure == nil && r.done && r.finished)
        // The line with an empty response carries no text: not a chunk.
        #expect(r.chunks == 3 && r.reasoning.isEmpty)
        #expect(r.text == "The sky is blue.")
        #expect(r.usage == TokenUsage(promptTokens: 26, completionTokens: 4))
        #expect(
            r.serverTimings
                == ServerTimings(
                    promptNanos: 130_079_000, generationNanos: 4_232_710_000, totalNanos: 10_706_818_083,
                    loadNanos: 6_338_219_291))
    }

    @Test func aToolCallLineIsOneAnswerChunk() throws {
        let r = try replay("ollama_chat_tool_call.ndjson")
        #expect(r.failure == nil && r.done)
        #expect(r.chunks == 2 && r.tokens == [1, 1] && r.reasoning.isEmpty)
        #expect(r.text == "Checking.get_weather")
        #expect(r.usage == TokenUsage(promptTokens: 122, completionTokens: 33))
    }

    @Test func anErrorLineMidStreamIsHTTP500KeepingTheTokens() throws {
        let r = try replay("ollama_chat_error.ndjson")
        #expect(r.failure == .http(status: 500))
        #expect(r.chunks == 2 && r.text == "Hello,")
        #expect(!r.done && r.usage == nil)
        var response = ResponseAccumulator()
        let line = Array(#"{"error":"model crashed"}"#.utf8)
        line.withUnsafeBytes {
            Self.dialect("x").decodeStreamEvent(
                name: UnsafeRawBufferPointer(start: nil, count: 0), data: $0, into: &response)
        }
        #expect(response.failureDetail == "error object in stream after 0 content lines: model crashed")
    }

    @Test(arguments: OllamaDialectTests.fixtures)
    func everySplitAndCRLFGiveTheSameResult(_ name: String) throws {
        let bytes = try Fixture.bytes(name)
        let dialect = Self.dialect(name)
        let whole = StreamReplay.run(bytes, splits: [], dialect: dialect)
        #expect(whole.chunks > 0)
        for i in 1..<bytes.count {
            let split = StreamReplay.run(bytes, splits: [i], dialect: dialect)
            #expect(split == whole, "split at \(i)")
            if split != whole { return }
        }
        #expect(StreamReplay.run(bytes, splits: Array(1..<bytes.count), dialect: dialect) == whole)
        var crlf: [UInt8] = []
        for byte in bytes {
            if byte == 0x0A { crlf.append(0x0D) }
            crlf.append(byte)
        }
        #expect(StreamReplay.run(crlf, splits: [], dialect: dialect) == whole)
        #expect(
            StreamReplay.run(crlf, splits: Array(stride(from: 1, to: crlf.count, by: 7)), dialect: dialect) == whole)
        // Without the last "\n", the body's end hands the last line over.
        #expect(StreamReplay.run(Array(bytes.dropLast()), splits: [], dialect: dialect) == whole)
    }

    @Test func theFramerKeepsMemoryBoundedAndSkipsBlankLines() {
        var framer = NDJSONLineFramer(maxLineBytes: 8)
        #expect(framer.lines(in: Array("{\"a\":1}\n\n  \r\n{\"b\"".utf8)) == ["{\"a\":1}"])
        #expect(framer.hasPartialLine)
        #expect(framer.lines(in: Array(":2}".utf8), last: true) == ["{\"b\":2}"])
        #expect(!framer.overflowed)
        // A line longer than the limit stops the framer, whether it arrives whole or in pieces.
        #expect(framer.lines(in: Array("{\"c\":123}\n".utf8)).isEmpty)
        #expect(framer.overflowed)
        #expect(framer.lines(in: Array("{}\n".utf8)).isEmpty)
        var pieces = NDJSONLineFramer(maxLineBytes: 8)
        #expect(pieces.lines(in: Array("{\"c\":".utf8)).isEmpty)
        #expect(pieces.lines(in: Array("1234".utf8)).isEmpty)
        #expect(pieces.overflowed && !pieces.hasPartialLine)
    }

    @Test func malformedLinesAndAStreamWithoutDone() {
        let dialect = OllamaDialect()
        let broken = StreamReplay.run(
            Array("{\"message\":{\"content\":\"a\"},\"done\":false}\n{\"message\":{\n".utf8), splits: [],
            dialect: dialect)
        #expect(broken.failure == .decode && broken.chunks == 1)
        // An escaped key goes to the slow path, which finds the same.
        let escaped = StreamReplay.run(
            Array(#"{"message":{"role":"assistant","thinkin\u0067":"hm"},"done":false}"#.appending("\n").utf8),
            splits: [], dialect: dialect)
        #expect(escaped.failure == nil && escaped.chunks == 1 && escaped.reasoning == [true] && escaped.text == "hm")
        var cut = ResponseAccumulator()
        Array("{\"message\":{\"content\":\"a\"},\"done\":false}".utf8).withUnsafeBytes {
            dialect.decodeStreamEvent(name: UnsafeRawBufferPointer(start: nil, count: 0), data: $0, into: &cut)
        }
        #expect(!dialect.streamIsComplete(cut))
    }

    @Test func nonStreamedBodies() {
        func decode(_ body: String, _ dialect: OllamaDialect = OllamaDialect()) -> ResponseAccumulator {
            var r = ResponseAccumulator()
            Array(body.utf8).withUnsafeBytes { dialect.decodeBody($0, into: &r) }
            return r
        }
        let chat = decode(
            #"{"model":"m","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"Yes.","thinking":"Hmm."},"done":true,"done_reason":"stop","total_duration":5,"load_duration":1,"prompt_eval_count":12,"prompt_eval_duration":2,"eval_count":30,"eval_duration":2}"#
        )
        #expect(chat.failureKind == nil && chat.sawDone && chat.sawFinish)
        #expect(chat.chunkTokens == [30] && chat.chunkReasoning.isEmpty)
        // The text in the order of the keys (Ollama writes content before thinking).
        #expect(chat.outputText == "Yes.Hmm.")
        #expect(chat.usage == TokenUsage(promptTokens: 12, completionTokens: 30))
        #expect(chat.serverTimings == ServerTimings(promptNanos: 2, generationNanos: 2, totalNanos: 5, loadNanos: 1))
        // The slow path (an escaped key sends the object there) reads the durations too.
        let escaped = decode(
            #"{"message":{"content":"a"},"done":true,"\u0074otal_duration":7,"prompt_eval_duration":3,"eval_duration":4}"#
        )
        #expect(escaped.failureKind == nil)
        #expect(escaped.serverTimings == ServerTimings(promptNanos: 3, generationNanos: 4, totalNanos: 7))
        // A negative duration is no duration.
        #expect(decode(#"{"message":{"content":"a"},"done":true,"eval_duration":-4}"#).serverTimings == nil)
        let generate = decode(
            #"{"model":"m","response":"","thinking":"Only thought.","done":true,"done_reason":"length","eval_count":8}"#,
            OllamaDialect(kind: .ollamaGenerate))
        #expect(generate.chunkReasoning == [true] && generate.chunkTokens == [8])
        let error = decode(#"{"error":"model 'x' not found"}"#)
        #expect(error.failureKind == .http(status: 500) && error.failureDetail == "error in body: model 'x' not found")
        #expect(decode(#"{"message":{"content":"a"},"done":false}"#).failureKind == .decode)
        #expect(decode("<html>").failureKind == .decode)
    }

    // MARK: through libcurl

    static func ollamaConfig(_ server: ScriptedServer, streaming: Bool = true) -> TransportConfig {
        TestTransport.config(server.baseURL + "/api/chat", streaming: streaming, dialect: OllamaDialect())
    }

    @Test func theTransferFramesLinesAcrossWritesAndTakesALastLineWithoutNewline() async throws {
        let line = { @Sendable (key: String, text: String) in
            #"{"model":"m","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"","#
                + #""\#(key)":"\#(text)"},"done":false}"#
        }
        let done =
            #"{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","#
            + #""prompt_eval_count":5,"eval_count":4}"#
        let first = line("thinking", "Hm")
        let server = try ScriptedServer { _ in
            [
                .head(status: 200, contentType: "application/x-ndjson"),
                // a line cut in two writes, then two lines (CRLF) in one write, then the last line with no "\n"
                .send(String(first.prefix(30))), .sleep(milliseconds: 20), .send(String(first.dropFirst(30)) + "\n"),
                .sleep(milliseconds: 20), .send(line("thinking", "m.") + "\r\n" + line("content", "Yes") + "\r\n"),
                .sleep(milliseconds: 20), .send(line("content", ".") + "\n" + done), .finish,
            ]
        }
        defer { server.stop() }
        let trace = await CurlMultiLoop().perform(TestTransport.request(Self.ollamaConfig(server)))
        #expect(trace.outcome == .ok, "\(trace.outcome)")
        #expect(trace.chunkAtNanos.count == 4 && trace.chunkReasoning == [true, true, false, false])
        #expect(trace.outputText == "Hmm.Yes.")
        #expect(trace.usage?.completionTokens == 4 && trace.usage?.promptTokens == 5)
        // the first chunk was stamped when its line was complete, after the 20 ms pause inside it
        #expect(trace.chunkAtNanos[1] >= trace.chunkAtNanos[0] + 15_000_000)
    }

    @Test func transferFailuresKeepTheirKinds() async throws {
        let content = #"{"message":{"role":"assistant","content":"a"},"done":false}"# + "\n"
        let cut = try ScriptedServer { _ in
            [.head(status: 200, contentType: "application/x-ndjson"), .send(content + content), .finish]
        }
        defer { cut.stop() }
        let loop = CurlMultiLoop()
        let cutTrace = await loop.perform(TestTransport.request(Self.ollamaConfig(cut)))
        #expect(cutTrace.outcome.failureKind == .streamCut && cutTrace.chunkAtNanos.count == 2)
        #expect(cutTrace.outcome.detail == "stream ended before an object with done: true")
        let missing = try ScriptedServer { _ in
            [
                .head(status: 404, contentType: "application/json; charset=utf-8"),
                .send(#"{"error":"model 'qwen3' not found"}"#), .finish,
            ]
        }
        defer { missing.stop() }
        let missingTrace = await loop.perform(TestTransport.request(Self.ollamaConfig(missing)))
        #expect(missingTrace.outcome.failureKind == .http(status: 404), "\(missingTrace.outcome)")
        #expect(missingTrace.outcome.detail.contains("model 'qwen3' not found"))
        let html = try ScriptedServer { _ in
            [.head(status: 200, contentType: "text/html"), .send("<html>oops</html>"), .finish]
        }
        defer { html.stop() }
        let htmlTrace = await loop.perform(TestTransport.request(Self.ollamaConfig(html)))
        #expect(htmlTrace.outcome.failureKind == .decode, "\(htmlTrace.outcome)")
        let whole = try ScriptedServer { _ in
            [
                .head(status: 200, contentType: "application/json"),
                .send(#"{"message":{"role":"assistant","content":"All of it."},"done":true,"eval_count":3}"#), .finish,
            ]
        }
        defer { whole.stop() }
        let wholeTrace = await loop.perform(TestTransport.request(Self.ollamaConfig(whole, streaming: false)))
        #expect(wholeTrace.outcome == .ok && wholeTrace.chunkTokens == [3] && wholeTrace.outputText == "All of it.")
    }

    static let tool = RequestBodyValue.object([
        RequestBodyField(key: "type", value: .string("function")),
        RequestBodyField(
            key: "function",
            value: .object([
                RequestBodyField(key: "name", value: .string("get_weather")),
                RequestBodyField(
                    key: "parameters", value: .object([RequestBodyField(key: "type", value: .string("object"))])),
            ])),
    ])

    @Test func requestBodies() {
        var workload = WorkloadSpec(
            prompts: [], maxTokens: 64, temperature: 0.5, seed: 7, stream: true,
            extraBody: [RequestBodyField(key: "keep_alive", value: .string("5m"))], tools: [Self.tool])
        workload.reasoningRequested = true
        let prompt = Prompt(system: "Be brief.", user: "Hi \"there\"")
        let chat = String(
            decoding: OllamaDialect().requestBody(prompt: prompt, workload: workload, model: "qwen3"), as: UTF8.self)
        #expect(
            chat
                == #"{"model":"qwen3","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi \"there\""}],"stream":true,"think":true,"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],"options":{"num_predict":64,"temperature":0.5,"seed":7},"keep_alive":"5m"}"#
        )
        workload.reasoningEffort = .high
        workload.stream = false
        let generate = String(
            decoding: OllamaDialect(kind: .ollamaGenerate).requestBody(prompt: prompt, workload: workload, model: "m"),
            as: UTF8.self)
        #expect(
            generate
                == #"{"model":"m","prompt":"Hi \"there\"","system":"Be brief.","stream":false,"think":"high","options":{"num_predict":64,"temperature":0.5,"seed":7},"keep_alive":"5m"}"#
        )
        let plain = String(
            decoding: OllamaDialect().requestBody(
                prompt: Prompt(user: "x"), workload: WorkloadSpec(prompts: []), model: "m"),
            as: UTF8.self)
        #expect(plain == #"{"model":"m","messages":[{"role":"user","content":"x"}],"stream":true}"#)
        #expect(APIKind.ollama.dialect.streamFraming == .newlineDelimitedJSON)
        #expect(
            TargetSpec(api: .ollama).endpointURL(base: "http://127.0.0.1:11434/") == "http://127.0.0.1:11434/api/chat")
        #expect(
            TargetSpec(api: .ollamaGenerate).endpointURL(base: "http://127.0.0.1:11434")
                == "http://127.0.0.1:11434/api/generate")
    }
}
