import LLMPerfClient
import LLMPerfCore
import Testing

@Suite struct SSEParserTests {
    static let chatText = "Continuous batching keeps the GPU busy \u{2014} caf\u{e9} \u{1F680}\n\"done\"."

    @Test func chatStreamEventsAndResult() throws {
        let bytes = try Fixture.bytes("openai_chat_stream.sse")
        let r = StreamReplay.run(bytes, splits: [], dialect: OpenAIChatDialect())
        #expect(r.events.count == 14)  // role, 10 content, finish, usage, [DONE]
        #expect(r.events.last?.data == "[DONE]")
        #expect(r.text == Self.chatText)
        #expect(r.chunks == 10)
        #expect(r.tokens == Array(repeating: 1, count: 10))
        #expect(r.usage == TokenUsage(promptTokens: 17, completionTokens: 10, cachedTokens: 16))
        #expect(r.done && r.finished)
        #expect(r.failure == nil)
    }

    @Test func crlfVariantWithCommentsAndEventLines() throws {
        let lf = StreamReplay.run(try Fixture.bytes("openai_chat_stream.sse"), splits: [], dialect: OpenAIChatDialect())
        let crlf = StreamReplay.run(
            try Fixture.bytes("openai_chat_stream_crlf.sse"), splits: [], dialect: OpenAIChatDialect())
        #expect(crlf.events.count == 14)
        #expect(crlf.events[0].name == "message")
        #expect(crlf.events[2].id == "2")
        #expect(crlf.text == lf.text)
        #expect(crlf.chunks == lf.chunks)
        #expect(crlf.usage == lf.usage)
        #expect(crlf.done)
    }

    @Test func completionsCROnlyMultiLineData() throws {
        let r = StreamReplay.run(
            try Fixture.bytes("openai_completions_stream_cr.sse"), splits: [], dialect: OpenAICompletionsDialect())
        #expect(r.events.count == 10)
        #expect(r.events[0].data.contains("\n\"choices\""))
        #expect(r.text == " Paris is the capital of France\t(\\u00e9)")
        #expect(r.chunks == 7)
        #expect(r.usage == TokenUsage(promptTokens: 5, completionTokens: 7))
        #expect(r.done && r.finished && r.failure == nil)
    }

    @Test(arguments: [
        "openai_chat_stream.sse", "openai_chat_stream_crlf.sse", "openai_completions_stream_cr.sse",
        "openai_chat_short.sse", "openai_chat_reasoning.sse", "openai_chat_tool_call.sse",
        "anthropic_stream_thinking.sse", "anthropic_stream_tool_use.sse", "responses_stream_reasoning.sse",
        "responses_stream_tool_call.sse",
    ])
    func everyTwoWaySplitGivesTheSameResult(_ name: String) throws {
        let bytes = try Fixture.bytes(name)
        let dialect: any APIDialect
        if name.hasPrefix("anthropic") {
            dialect = AnthropicDialect()
        } else if name.hasPrefix("responses") {
            dialect = OpenAIResponsesDialect()
        } else if name.contains("completions") {
            dialect = OpenAICompletionsDialect()
        } else {
            dialect = OpenAIChatDialect()
        }
        let whole = StreamReplay.run(bytes, splits: [], dialect: dialect)
        #expect(whole.failure == nil)
        for i in 1..<bytes.count {
            let split = StreamReplay.run(bytes, splits: [i], dialect: dialect)
            #expect(split == whole, "split at \(i)")
            if split != whole { return }
        }
        let byteByByte = StreamReplay.run(bytes, splits: Array(1..<bytes.count), dialect: dialect)
        #expect(byteByByte == whole)
    }

    @Test func everyThreeWaySplitOfAShortStream() throws {
        let bytes = try Fixture.bytes("openai_chat_short.sse")
        let whole = StreamReplay.run(bytes, splits: [], dialect: OpenAIChatDialect())
        #expect(whole.events.count == 4)
        #expect(whole.text == "Hi\u{e9}")
        #expect(whole.chunks == 1)
        #expect(whole.done)
        var mismatches = 0
        for i in 1..<bytes.count {
            for j in (i + 1)..<bytes.count
            where StreamReplay.run(bytes, splits: [i, j], dialect: OpenAIChatDialect()) != whole {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
    }

    @Test func fieldRules() {
        var p = SSEParser()
        let events = p.events(
            in: Array(
                "data:no-space\n\ndata\n\n:comment only\n\nevent: x\n\nid: 7\ndata:  two spaces\ndata: second\n\ndata: trailing"
                    .utf8))
        #expect(
            events == [
                SSEEvent(data: "no-space"), SSEEvent(data: ""),
                SSEEvent(data: " two spaces\nsecond", id: "7"),
            ])
        #expect(p.hasPartialEvent)
    }
}
