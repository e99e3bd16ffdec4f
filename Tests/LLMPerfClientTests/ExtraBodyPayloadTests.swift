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
