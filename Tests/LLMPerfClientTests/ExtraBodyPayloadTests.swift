import Foundation
import LLMPerfClient
import LLMPerfCore
import Testing

/// `workload.extra_body` fields go into every request body, after llmperf's own fields.
@Suite struct ExtraBodyPayloadTests {
    static let extra = [
        RequestBodyField(key: "ignore_eos", value: .bool(true)),
        RequestBodyField(key: "min_p", value: .number(0.05)),
        RequestBodyField(
            key: "options",
            value: .object([
                RequestBodyField(key: "ids", value: .array([.integer(1), .null, .string("a\"b")])),
                RequestBodyField(key: "empty", value: .object([])),
            ])),
    ]

    @Test func chatBodyEndsWithTheExtraFields() {
        let workload = WorkloadSpec(
            prompts: [], maxTokens: 8, temperature: 0, stream: true, includeUsage: true, extraBody: Self.extra)
        let body = OpenAIChatDialect().requestBody(prompt: Prompt(user: "hi"), workload: workload, model: "m")
        #expect(
            String(decoding: body, as: UTF8.self)
                == #"{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":8,"temperature":0,"stream":true,"stream_options":{"include_usage":true},"ignore_eos":true,"min_p":0.05,"options":{"ids":[1,null,"a\"b"],"empty":{}}}"#
        )
    }

    @Test func completionsBodyCarriesThemToo() throws {
        let workload = WorkloadSpec(prompts: [], maxTokens: 8, stream: false, extraBody: [Self.extra[0]])
        let body = OpenAICompletionsDialect().requestBody(prompt: Prompt(user: "hi"), workload: workload, model: "m")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect(object["ignore_eos"] as? Bool == true)
        #expect(object["stream"] as? Bool == false)
    }

    @Test func noExtraFieldsNoChange() {
        let workload = WorkloadSpec(prompts: [], maxTokens: 8, stream: false)
        let body = OpenAIChatDialect().requestBody(prompt: Prompt(user: "hi"), workload: workload, model: "m")
        #expect(
            String(decoding: body, as: UTF8.self)
                == #"{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":8,"stream":false}"#)
    }
}

/// `workload.reasoning.effort`, `tools` and `tool_choice` in the chat request body, after the
/// streaming fields and before `extra_body`.
@Suite struct ToolsAndReasoningPayloadTests {
    @Test func chatBodyCarriesEffortToolsAndChoice() {
        let tool = RequestBodyValue.object([
            RequestBodyField(key: "type", value: .string("function")),
            RequestBodyField(
                key: "function", value: .object([RequestBodyField(key: "name", value: .string("get_weather"))])),
        ])
        let workload = WorkloadSpec(
            prompts: [], maxTokens: 8, stream: true, includeUsage: false,
            extraBody: [RequestBodyField(key: "top_k", value: .integer(4))], reasoningEffort: .medium, tools: [tool],
            toolChoice: .string("required"))
        let body = OpenAIChatDialect().requestBody(prompt: Prompt(user: "hi"), workload: workload, model: "m")
        #expect(
            String(decoding: body, as: UTF8.self)
                == #"{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":8,"stream":true,"reasoning_effort":"medium","tools":[{"type":"function","function":{"name":"get_weather"}}],"tool_choice":"required","top_k":4}"#
        )
        let plain = OpenAIChatDialect().requestBody(
            prompt: Prompt(user: "hi"), workload: WorkloadSpec(prompts: [], stream: false), model: "m")
        #expect(
            String(decoding: plain, as: UTF8.self)
                == #"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":false}"#)
    }
}
