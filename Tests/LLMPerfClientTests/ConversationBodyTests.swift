import Foundation
import LLMPerfCore
import Testing

@testable import LLMPerfClient

/// A prompt's history and its own output length, in every dialect's body.
@Suite struct ConversationBodyTests {
    let prompt = Prompt(
        system: "S", history: [ChatExchange(user: "u1", assistant: "a1"), ChatExchange(user: "u2", assistant: "a2")],
        user: "u3", maxTokens: 7)
    let workload = WorkloadSpec(prompts: [], maxTokens: 100)

    private func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    private func roles(_ messages: Any?) -> [String] {
        ((messages as? [[String: Any]]) ?? []).map { "\($0["role"] ?? "")=\($0["content"] ?? "")" }
    }

    @Test func chatDialectsSendTheConversationInOrder() throws {
        let chat = try object(OpenAIChatDialect().requestBody(prompt: prompt, workload: workload, model: "m"))
        #expect(
            roles(chat["messages"]) == ["system=S", "user=u1", "assistant=a1", "user=u2", "assistant=a2", "user=u3"])
        let anthropic = try object(AnthropicDialect().requestBody(prompt: prompt, workload: workload, model: "m"))
        #expect(roles(anthropic["messages"]) == ["user=u1", "assistant=a1", "user=u2", "assistant=a2", "user=u3"])
        #expect(anthropic["max_tokens"] as? Int == 7)
        let responses = try object(OpenAIResponsesDialect().requestBody(prompt: prompt, workload: workload, model: "m"))
        #expect(roles(responses["input"]) == ["user=u1", "assistant=a1", "user=u2", "assistant=a2", "user=u3"])
        #expect(responses["max_output_tokens"] as? Int == 7)
        let ollama = try object(
            OllamaDialect(kind: .ollama).requestBody(prompt: prompt, workload: workload, model: "m"))
        #expect(
            roles(ollama["messages"]) == ["system=S", "user=u1", "assistant=a1", "user=u2", "assistant=a2", "user=u3"])
        #expect((ollama["options"] as? [String: Any])?["num_predict"] as? Int == 7)
    }

    @Test func textDialectsSendATranscript() throws {
        let expected = "S\n\nUser: u1\nAssistant: a1\nUser: u2\nAssistant: a2\nUser: u3\nAssistant:"
        let completions = try object(
            OpenAICompletionsDialect().requestBody(prompt: prompt, workload: workload, model: "m"))
        #expect(completions["prompt"] as? String == expected)
        let llama = try object(LlamaCppDialect().requestBody(prompt: prompt, workload: workload, model: "m"))
        #expect(llama["prompt"] as? String == expected)
        #expect(llama["n_predict"] as? Int == 7)
        #expect(llama["ignore_eos"] as? Bool == true)
        // Without history the text is what it always was.
        #expect(Prompt(system: "S", user: "u").completionText == "S\n\nu")
    }

    @Test func aPromptsOwnLengthIsSentWithIgnoreEOSUnlessExtraBodySetsIt() throws {
        let chat = try object(OpenAIChatDialect().requestBody(prompt: prompt, workload: workload, model: "m"))
        #expect(chat["max_tokens"] as? Int == 7)
        #expect(chat["ignore_eos"] as? Bool == true)
        let plain = try object(
            OpenAIChatDialect().requestBody(prompt: Prompt(user: "u"), workload: workload, model: "m"))
        #expect(plain["max_tokens"] as? Int == 100)
        #expect(plain["ignore_eos"] == nil)
        var withFlag = workload
        withFlag.extraBody = [RequestBodyField(key: "ignore_eos", value: .bool(false))]
        let bytes = OpenAIChatDialect().requestBody(prompt: prompt, workload: withFlag, model: "m")
        #expect(String(decoding: bytes, as: UTF8.self).components(separatedBy: "ignore_eos").count == 2)
        #expect(try object(bytes)["ignore_eos"] as? Bool == false)
    }
}
