import Foundation
import LLMPerfClient
import LLMPerfCore
import Testing

/// Reasoning and tool calls in OpenAI-shaped streams: which chunks are reasoning, which are the
/// answer, and the reasoning count from `usage`. The fixtures follow vLLM's reasoning output
/// (`delta.reasoning_content`, docs.vllm.ai "Reasoning Outputs") and OpenAI's chat completions
/// streaming format for tool calls (`delta.tool_calls[i].function.{name, arguments}`, with
/// `usage.completion_tokens_details.reasoning_tokens`); every byte split of both is replayed in
/// SSEParserTests.
@Suite struct ReasoningDecodingTests {
    func replay(_ text: String) -> StreamReplay {
        StreamReplay.run(Array(text.utf8), splits: [], dialect: OpenAIChatDialect())
    }

    @Test func reasoningChunksComeBeforeTheAnswerAndUsageCountsThem() throws {
        let r = StreamReplay.run(
            try Fixture.bytes("openai_chat_reasoning.sse"), splits: [], dialect: OpenAIChatDialect())
        #expect(r.failure == nil && r.done && r.finished)
        #expect(r.chunks == 7)
        #expect(r.reasoning == [true, true, true, true, false, false, false])
        #expect(r.text == "Okay, compare 9.11 and 9.8.9.8 is greater.")
        #expect(r.usage == TokenUsage(promptTokens: 12, completionTokens: 7, reasoningTokens: 4))
    }

    @Test func aToolCallIsAnswerFromItsFirstEvent() throws {
        let r = StreamReplay.run(
            try Fixture.bytes("openai_chat_tool_call.sse"), splits: [], dialect: OpenAIChatDialect())
        #expect(r.failure == nil && r.done && r.finished)
        // The name event and five argument fragments; no reasoning, so no flags at all.
        #expect(r.chunks == 6 && r.reasoning.isEmpty)
        #expect(r.text == #"get_weather{"city":"Paris"}"#)
        #expect(r.tokens == [1, 1, 1, 1, 1, 1])
    }

    @Test func theReasoningFieldAndMixedEvents() {
        let r = replay(
            """
            data: {"choices":[{"index":0,"delta":{"reasoning":"hm"},"finish_reason":null}]}

            data: {"choices":[{"index":0,"delta":{"reasoning":"","content":"A"},"finish_reason":null}]}

            data: {"choices":[{"index":0,"delta":{"reasoning":"more","content":"B"},"finish_reason":null}]}

            data: {"choices":[{"index":0,"delta":{"reasoning":"late"},"finish_reason":"stop"}]}

            data: [DONE]


            """)
        // An event with answer text is an answer chunk even when it also carries reasoning.
        #expect(r.reasoning == [true, false, false, true])
        #expect(r.text == "hmAmoreBlate")
    }

    /// The slow path (an escaped key sends the payload to JSONSerialization) finds the same.
    @Test func slowPathSeesReasoningAndToolCalls() {
        let r = replay(
            """
            data: {"choices":[{"index":0,"delta":{"reasoning_cont\\u0065nt":"think"},"finish_reason":null}]}

            data: {"choices":[{"index":0,"delta":{"tool_c\\u0061lls":[{"index":0,"function":{"name":"f","arguments":"{}"}}]},"finish_reason":null}]}

            data: {"choices":[],"us\\u0061ge":{"completion_tokens":5,"completion_tokens_details":{"reasoning_tokens":3}}}

            data: [DONE]


            """)
        #expect(r.reasoning == [true, false])
        #expect(r.text == "thinkf{}")
        #expect(r.usage?.reasoningTokens == 3 && r.usage?.completionTokens == 5)
    }

    /// A model that reasons without showing it (usage counts reasoning, no reasoning delta):
    /// the hidden tokens are not spread over the visible chunks, so ITL stays per visible token.
    @Test func hiddenReasoningIsNotApportionedOverTheVisibleChunks() {
        var r = ResponseAccumulator()
        let events = [
            #"{"choices":[{"index":0,"delta":{"content":"A"},"finish_reason":null}]}"#,
            #"{"choices":[{"index":0,"delta":{"content":"B"},"finish_reason":"stop"}]}"#,
            #"{"choices":[],"usage":{"completion_tokens":202,"completion_tokens_details":{"reasoning_tokens":200}}}"#,
        ]
        for event in events {
            let bytes = Array(event.utf8)
            bytes.withUnsafeBytes { data in
                [UInt8]().withUnsafeBytes { name in
                    OpenAIChatDialect().decodeStreamEvent(name: name, data: data, into: &r)
                }
            }
        }
        r.apportionUsageOverChunks()
        #expect(r.chunkTokens == [1, 1])
        // Packed visible tokens are still spread: 6 visible over 2 chunks.
        var withPacking = ResponseAccumulator()
        for event in [events[0], events[1], events[2].replacingOccurrences(of: "202", with: "206")] {
            Array(event.utf8).withUnsafeBytes { data in
                [UInt8]().withUnsafeBytes { name in
                    OpenAIChatDialect().decodeStreamEvent(name: name, data: data, into: &withPacking)
                }
            }
        }
        withPacking.apportionUsageOverChunks()
        #expect(withPacking.chunkTokens == [3, 3])
    }
}
