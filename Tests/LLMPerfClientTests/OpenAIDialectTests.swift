import Foundation
import LLMPerfClient
import LLMPerfCore
import Testing

@Suite struct OpenAIDialectTests {
    private func stream(_ text: String, _ dialect: any APIDialect = OpenAIChatDialect()) -> StreamReplay {
        StreamReplay.run(Array(text.utf8), splits: [], dialect: dialect)
    }

    private func json(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test func chatBodyHasMessagesAndOptions() throws {
        let workload = WorkloadSpec(
            prompts: [], maxTokens: 64, temperature: 0.7, seed: 42, stream: true, includeUsage: true)
        let body = OpenAIChatDialect().requestBody(
            prompt: Prompt(system: "Be brief.", user: "Say \"hi\"\n\u{1F600}"), workload: workload, model: "m1")
        #expect(
            String(decoding: body, as: UTF8.self)
                == #"{"model":"m1","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Say \"hi\"\n😀"}],"max_tokens":64,"temperature":0.7,"seed":42,"stream":true,"stream_options":{"include_usage":true}}"#
        )
        let object = try json(body)
        #expect((object["messages"] as? [Any])?.count == 2)
    }

    @Test func completionsBodyJoinsSystemAndUser() throws {
        let workload = WorkloadSpec(prompts: [], maxTokens: 8, temperature: 0, stream: false, includeUsage: true)
        let with = try json(
            OpenAICompletionsDialect().requestBody(
                prompt: Prompt(system: "S", user: "U"), workload: workload, model: "m"))
        #expect(with["prompt"] as? String == "S\n\nU")
        #expect(with["stream"] as? Bool == false)
        #expect(with["stream_options"] == nil)
        #expect(with["temperature"] as? Int == 0)
        let without = try json(
            OpenAICompletionsDialect().requestBody(prompt: Prompt(user: "U"), workload: workload, model: "m"))
        #expect(without["prompt"] as? String == "U")
    }

    @Test func roleOnlyAndEmptyDeltasAreNotContent() {
        let r = stream(
            """
            data: {"choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}

            data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}

            data: {"choices":[{"index":0,"delta":{"content":null},"finish_reason":null}]}

            data: {"choices":[{"index":0,"delta":{},"finish_reason":null}]}

            data: {"choices":[{"index":0,"delta":{"content":"A"},"finish_reason":null}]}

            data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}

            data: [DONE]


            """)
        #expect(r.chunks == 1)
        #expect(r.text == "A")
        #expect(r.finished && r.done && r.failure == nil)
    }

    @Test func escapesAreDecoded() {
        let r = stream(
            #"""
            data: {"choices":[{"delta":{"content":"q\"b\\s\/n\nt\tu\u00e9 \ud83d\ude80 lone\ud800x"}}]}

            data: [DONE]


            """#)
        #expect(r.text == "q\"b\\s/n\nt\tu\u{e9} \u{1F680} lone\u{FFFD}x")
    }

    @Test func usageIsTaken() {
        let r = stream(
            """
            data: {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":34,"total_tokens":46,"prompt_tokens_details":{"cached_tokens":8,"audio_tokens":0}}}

            data: [DONE]


            """)
        #expect(r.usage == TokenUsage(promptTokens: 12, completionTokens: 34, cachedTokens: 8))
        #expect(r.chunks == 0)
    }

    @Test func slowPathHandlesWhatTheFastPathDoesNot() {
        // Floats as token counts and content given as parts: JSONSerialization decides.
        let r = stream(
            """
            data: {"choices":[{"delta":{"content":[{"type":"text","text":"x"}]}}],"usage":{"prompt_tokens":3.0,"completion_tokens":1e0}}

            data: {"ch\\u006fices":[{"delta":{"content":"y"}}]}

            data: [DONE]


            """)
        #expect(r.text == "xy")
        #expect(r.chunks == 2)
        #expect(r.usage == TokenUsage(promptTokens: 3, completionTokens: 1))
        #expect(r.failure == nil)
    }

    @Test func errorObjectInStreamIsAFailure() {
        let r = stream(
            """
            data: {"choices":[{"delta":{"content":"A"}}]}

            data: {"error":{"message":"out of memory","type":"server_error","code":503}}


            """)
        #expect(r.failure == .http(status: 503))
        #expect(r.chunks == 1)
        let noCode = stream("data: {\"error\":\"boom\"}\n\n")
        #expect(noCode.failure == .http(status: 500))
        let event = stream("event: error\ndata: {\"message\":\"overloaded\"}\n\n")
        #expect(event.failure == .http(status: 500))
    }

    @Test func malformedEventIsDecodeFailure() {
        let r = stream("data: {\"choices\":[{\"delta\":{\"content\":\"A\"}}]}\n\ndata: {\"choices\":[{\"delta\n\n")
        #expect(r.failure == .decode)
        #expect(r.chunks == 1)
        #expect(stream("data: not json\n\n").failure == .decode)
        #expect(stream("data: [1,2]\n\n").failure == .decode)
    }

    @Test func nonStreamingBodies() throws {
        var chat = ResponseAccumulator()
        chat.eventAtNanos = 99
        try Fixture.bytes("openai_chat_body.json").withUnsafeBytes { OpenAIChatDialect().decodeBody($0, into: &chat) }
        #expect(chat.outputText == "Continuous batching keeps the GPU busy.")
        #expect(chat.chunkAtNanos == [99])
        #expect(chat.chunkTokens == [8])
        #expect(chat.usage?.promptTokens == 17)
        #expect(chat.failureKind == nil)

        var completion = ResponseAccumulator()
        try Fixture.bytes("openai_completions_body.json").withUnsafeBytes {
            OpenAICompletionsDialect().decodeBody($0, into: &completion)
        }
        #expect(completion.outputText == " Paris is the capital of France.")
        #expect(completion.chunkTokens == [7])

        var noUsage = ResponseAccumulator()
        Array(#"{"choices":[{"message":{"content":"ok"}}]}"#.utf8).withUnsafeBytes {
            OpenAIChatDialect().decodeBody($0, into: &noUsage)
        }
        #expect(noUsage.chunkTokens == [1])

        var bad = ResponseAccumulator()
        Array(#"{"object":"list"}"#.utf8).withUnsafeBytes { OpenAIChatDialect().decodeBody($0, into: &bad) }
        #expect(bad.failureKind == .decode)
    }

    @Test func outputTextIsCappedOnACharacterBoundary() {
        var events = ""
        for _ in 0..<3000 { events += "data: {\"choices\":[{\"delta\":{\"content\":\"\u{e9}\"}}]}\n\n" }
        let r = stream(events)
        #expect(r.chunks == 3000)
        #expect(r.text.utf8.count <= ResponseAccumulator.textCapBytes)
        #expect(r.text.utf8.count >= ResponseAccumulator.textCapBytes - 4)
        #expect(!r.text.contains("\u{FFFD}"))
    }
}
