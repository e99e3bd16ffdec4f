import Foundation
import Testing

@testable import LLMPerfCore

/// `workload.extra_body`: fields merged into every request body.
@Suite("Workload extra_body")
struct ExtraBodyTests {
    static func document(_ workload: String) -> String {
        """
        version: 1
        name: x
        target:
          backend: local
          engine: synthetic
        workload:
          prompts: ["hi"]
        \(workload)
        load:
          concurrency: 1
          requests: 4
        """
    }

    static func load(_ workload: String) throws(ScenarioError) -> Scenario {
        try ScenarioLoader.load(yaml: document(workload), path: "x.yml", environment: [:]).runs[0]
    }

    @Test func valuesKeepTheirYAMLTypes() throws {
        let run = try Self.load(
            """
              extra_body:
                ignore_eos: true
                top_k: 4
                min_p: 0.05
                stop_token_ids: [1, 2]
                tag: "true"
                note: plain words
                options: {nested: {deep: False}, none: ~}
                dropped: null
            """)
        #expect(
            run.workload.extraBody == [
                RequestBodyField(key: "ignore_eos", value: .bool(true)),
                RequestBodyField(key: "top_k", value: .integer(4)),
                RequestBodyField(key: "min_p", value: .number(0.05)),
                RequestBodyField(key: "stop_token_ids", value: .array([.integer(1), .integer(2)])),
                RequestBodyField(key: "tag", value: .string("true")),
                RequestBodyField(key: "note", value: .string("plain words")),
                RequestBodyField(
                    key: "options",
                    value: .object([
                        RequestBodyField(
                            key: "nested", value: .object([RequestBodyField(key: "deep", value: .bool(false))])),
                        RequestBodyField(key: "none", value: .null),
                    ])),
            ])
        #expect(
            RequestBodyField.objectText(run.workload.extraBody)
                == #"{"ignore_eos":true,"top_k":4,"min_p":0.05,"stop_token_ids":[1,2],"tag":"true","note":"plain words","options":{"nested":{"deep":false},"none":null}}"#
        )
    }

    @Test func fieldsTheClientWritesAreRefused() {
        for (key, setting) in [
            ("stream", "workload.stream"), ("max_tokens", "workload.max_tokens"), ("model", "target.model"),
            ("messages", "the prompts"), ("stream_options", "workload.include_usage"),
        ] {
            do {
                _ = try Self.load("  extra_body: {ignore_eos: true, \(key): 1}")
                Issue.record("\(key) was accepted")
            } catch {
                #expect(
                    error.description
                        == "x.yml:8:34: workload.extra_body.\(key): llmperf sets this field itself; use \(setting) instead"
                )
                #expect(error.kind == .conflict)
            }
        }
    }

    @Test func mustBeAMapping() {
        #expect(throws: ScenarioError.self) { try Self.load("  extra_body: [ignore_eos]") }
        do {
            _ = try Self.load("  extra_body: true")
        } catch {
            #expect(
                error.description
                    == "x.yml:8:15: workload.extra_body: expected a mapping of request body fields, such as {ignore_eos: true}, got 'true'"
            )
        }
    }

    @Test func theHashChangesOnlyWhenItIsSet() throws {
        let plain = try Self.load("")
        let empty = try Self.load("  extra_body: {}")
        let set = try Self.load("  extra_body: {ignore_eos: true}")
        let other = try Self.load("  extra_body: {ignore_eos: false}")
        #expect(plain.hash == empty.hash)
        #expect(!ScenarioCanonicalForm.render(plain).contains("extra_body"))
        #expect(ScenarioCanonicalForm.render(set).contains("workload.extra_body={\"ignore_eos\":true}\n"))
        #expect(Set([plain.hash, set.hash, other.hash]).count == 3)
    }

    @Test func aVariantCanDropIt() throws {
        let yaml =
            Self.document("  extra_body: {ignore_eos: true}")
            + "\nvariants:\n  a: {}\n  b: {workload: {extra_body: {ignore_eos: null}}}\n"
        let runs = try ScenarioLoader.load(yaml: yaml, path: "x.yml", environment: [:]).runs
        #expect(runs[0].workload.extraBody == [RequestBodyField(key: "ignore_eos", value: .bool(true))])
        #expect(runs[1].workload.extraBody.isEmpty)
    }
}
