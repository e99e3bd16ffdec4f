import Foundation
import Testing

@testable import LLMPerfCore

/// `workload.reasoning`, `workload.tools` and `workload.tool_choice`: read, checked against the
/// dialect, and part of the scenario hash only when set.
@Suite struct ToolsAndReasoningWorkloadTests {
    static func document(_ workload: String, api: String = "openai-chat") -> String {
        """
        version: 1
        name: x
        target:
          url: http://127.0.0.1:9/v1
          api: \(api)
          model: m
        workload:
          prompts: ["hi"]
        \(workload)
        load:
          concurrency: 1
          requests: 4
        """
    }

    static func load(_ workload: String, api: String = "openai-chat") throws(ScenarioError) -> Scenario {
        try ScenarioLoader.load(yaml: document(workload, api: api), path: "x.yml", environment: [:]).runs[0]
    }

    static let tools = """
          tools:
            - type: function
              function:
                name: get_weather
                description: Current weather in a city
                parameters: {type: object, properties: {city: {type: string}}, required: [city]}
        """

    @Test func effortToolsAndChoiceAreRead() throws {
        let run = try Self.load(
            """
              reasoning: {effort: high}
            \(Self.tools)
              tool_choice: {type: function, function: {name: get_weather}}
            """)
        #expect(run.workload.reasoningEffort == .high)
        #expect(
            RequestBodyValue.array(run.workload.tools).jsonText
                == #"[{"type":"function","function":{"name":"get_weather","description":"Current weather in a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]"#
        )
        #expect(run.workload.toolChoice?.jsonText == #"{"type":"function","function":{"name":"get_weather"}}"#)
        let auto = try Self.load(Self.tools + "\n  tool_choice: required")
        #expect(auto.workload.toolChoice == .string("required"))
    }

    @Test func theHashChangesOnlyWhenTheyAreSet() throws {
        let plain = try Self.load("")
        let effort = try Self.load("  reasoning: {effort: low}")
        let tools = try Self.load(Self.tools)
        #expect(Set([plain.hash, effort.hash, tools.hash]).count == 3)
        #expect(!ScenarioCanonicalForm.render(plain).contains("reasoning"))
        #expect(!ScenarioCanonicalForm.render(plain).contains("tools"))
        #expect(ScenarioCanonicalForm.render(effort).contains("workload.reasoning.effort=low\n"))
    }

    @Test(arguments: [
        (
            "  reasoning: {effort: extreme}", "openai-chat",
            "x.yml:9:23: workload.reasoning.effort: expected one of low, medium, high, got 'extreme'"
        ),
        (
            "  reasoning: {budget_tokens: 1024}", "openai-chat",
            "x.yml:9:30: workload.reasoning.budget_tokens: a thinking budget in tokens is Anthropic's setting; the "
                + "openai-chat API takes effort (low, medium or high), sent as reasoning_effort"
        ),
        (
            "  reasoning: {effort: low}", "openai-completions",
            "x.yml:9:14: workload.reasoning: applies to target.api openai-chat, openai-responses, anthropic, ollama "
                + "or ollama-generate; the openai-completions API has no such field"
        ),
        (
            "  reasoning: {budget_tokens: 1024}", "openai-responses",
            "x.yml:9:30: workload.reasoning.budget_tokens: a thinking budget in tokens is Anthropic's setting; the "
                + "openai-responses API takes effort (low, medium or high), sent as reasoning.effort"
        ),
        (
            "  reasoning: {effort: low}\n  extra_body: {reasoning: {summary: auto}}", "openai-responses",
            "x.yml:10:16: workload.extra_body.reasoning: the openai-responses API's reasoning object is set from "
                + "workload.reasoning.effort; set one of them"
        ),
        (
            "  extra_body: {max_output_tokens: 5}", "openai-responses",
            "x.yml:9:16: workload.extra_body.max_output_tokens: llmperf sets this field itself; use "
                + "workload.max_tokens instead"
        ),
        (
            "  reasoning: {effort: low}", "llamacpp",
            "x.yml:9:14: workload.reasoning: applies to target.api openai-chat, openai-responses, anthropic, ollama "
                + "or ollama-generate; the llamacpp API has no such field"
        ),
        (
            "  tools: [{type: function, function: {name: f}}]", "tgi",
            "x.yml:9:10: workload.tools: applies to target.api openai-chat, openai-responses, anthropic, ollama or "
                + "ollama-generate; the tgi API has no such field"
        ),
        (
            "  extra_body: {n_predict: 5}", "llamacpp",
            "x.yml:9:16: workload.extra_body.n_predict: llmperf sets this field itself; use workload.max_tokens instead"
        ),
        (
            "  tool_choice: auto", "openai-chat",
            "x.yml:9:16: workload.tool_choice: needs workload.tools to choose from"
        ),
        (
            "  tools: [{type: function, function: {description: x}}]", "openai-chat",
            "x.yml:9:38: workload.tools.0.function.name: missing required key"
        ),
        (
            "  tools: [{type: retrieval, function: {name: f}}]", "openai-chat",
            "x.yml:9:18: workload.tools.0.type: expected function, got 'retrieval'"
        ),
    ])
    func badSettingsAreClearErrors(_ workload: String, _ api: String, _ message: String) {
        do {
            _ = try Self.load(workload, api: api)
            Issue.record("accepted: \(workload)")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func aToolChoiceMustNameOneOfTheTools() {
        do {
            _ = try Self.load(Self.tools + "\n  tool_choice: {type: function, function: {name: get_time}}")
            Issue.record("accepted")
        } catch {
            #expect(error.description.hasSuffix("'get_time' is not one of workload.tools (get_weather)"))
        }
    }

    @Test func extraBodyCannotSetThemBehindTheirBacks() {
        do {
            _ = try Self.load("  extra_body: {reasoning_effort: high}")
            Issue.record("accepted")
        } catch {
            #expect(
                error.description.hasSuffix("llmperf sets this field itself; use workload.reasoning.effort instead"))
        }
    }

    @Test func ollamaTakesThinkAndChatTools() throws {
        let run = try Self.load("  reasoning: {}\n" + Self.tools, api: "ollama")
        #expect(run.workload.reasoningRequested && run.workload.reasoningEffort == nil)
        #expect(run.workload.tools.count == 1 && run.target.api == .ollama)
        #expect(run.target.endpointURL(base: "http://127.0.0.1:11434") == "http://127.0.0.1:11434/api/chat")
        #expect(ScenarioCanonicalForm.render(run).contains("workload.reasoning={}\n"))
        #expect(try Self.load("", api: "ollama").hash != run.hash)
        let level = try Self.load("  reasoning: {effort: high}", api: "ollama-generate")
        #expect(level.workload.reasoningRequested && level.workload.reasoningEffort == .high)
        for (workload, api, message) in [
            (
                "  reasoning: {budget_tokens: 2048}", "ollama",
                "x.yml:9:30: workload.reasoning.budget_tokens: the ollama API has no thinking budget: leave "
                    + "reasoning empty ({}) to send think: true, or set effort (low, medium or high) to send it as "
                    + "think's level"
            ),
            (
                Self.tools + "\n  tool_choice: auto", "ollama",
                "x.yml:15:16: workload.tool_choice: the ollama API has no tool_choice: the model decides whether "
                    + "to call a tool"
            ),
            (
                Self.tools, "ollama-generate",
                "x.yml:10:5: workload.tools: the ollama-generate API (/api/generate) takes no tools; use target.api "
                    + "ollama (/api/chat)"
            ),
            (
                "  include_usage: true", "ollama",
                "x.yml:9:18: workload.include_usage: the ollama API has no such setting: Ollama always reports its "
                    + "counts (prompt_eval_count, eval_count) in the last line of the answer"
            ),
            (
                "  extra_body: {options: {num_ctx: 4096}}", "ollama",
                "x.yml:9:16: workload.extra_body.options: llmperf sets this field itself on the ollama API; use "
                    + "workload.max_tokens, temperature and seed (sent in options) or workload.reasoning (sent as "
                    + "think) instead"
            ),
        ] {
            do {
                _ = try Self.load(workload, api: api)
                Issue.record("accepted: \(workload)")
            } catch {
                #expect(error.description == message)
            }
        }
    }

    @Test func responsesTakesEffortToolsAndAChoice() throws {
        let run = try Self.load(
            "  reasoning: {effort: medium}\n" + Self.tools + "\n  tool_choice: required", api: "openai-responses")
        #expect(run.workload.reasoningEffort == .medium && run.workload.toolChoice == .string("required"))
        #expect(run.target.endpointURL(base: "https://api.openai.com/v1") == "https://api.openai.com/v1/responses")
        // Its reasoning summary may be asked for through extra_body when no effort is set.
        let summary = try Self.load("  extra_body: {reasoning: {summary: auto}}", api: "openai-responses")
        #expect(summary.workload.extraBody.map(\.key) == ["reasoning"])
    }

    @Test func anthropicTakesABudgetAndNeedsMaxTokens() throws {
        let run = try Self.load(
            "  max_tokens: 4096\n  reasoning: {budget_tokens: 2048}\n" + Self.tools, api: "anthropic")
        #expect(run.workload.reasoningBudgetTokens == 2048 && run.workload.reasoningEffort == nil)
        #expect(run.target.api == .anthropic)
        #expect(run.target.endpointURL(base: "https://api.anthropic.com/v1") == "https://api.anthropic.com/v1/messages")
        #expect(ScenarioCanonicalForm.render(run).contains("workload.reasoning.budget_tokens=2048\n"))
        for (workload, message) in [
            ("  max_tokens: 100\n  reasoning: {effort: high}", "the anthropic API takes a thinking budget"),
            ("  max_tokens: 4096\n  reasoning: {budget_tokens: 512}", "expected a whole number ≥ 1024"),
            ("  max_tokens: 2000\n  reasoning: {budget_tokens: 2048}", "must be less than workload.max_tokens (2000)"),
            ("  temperature: 0", "the anthropic API requires max_tokens"),
        ] {
            do {
                _ = try Self.load(workload, api: "anthropic")
                Issue.record("accepted: \(workload)")
            } catch {
                #expect(error.description.contains(message), "\(error.description)")
            }
        }
    }
}
