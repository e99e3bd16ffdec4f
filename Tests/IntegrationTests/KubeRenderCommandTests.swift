import Foundation
import Testing
import Yams

/// `llmperf kube render` as a user runs it: a shipped scenario becomes manifests that parse, and bad flags
/// exit 2 with a message that says what is wrong.
@Suite struct KubeRenderCommandTests {
    @Test func rendersAScenarioAsFourDocuments() throws {
        let ws = try Workspace()
        defer { ws.remove() }
        let scenario = try ws.write(
            "synthetic.yml",
            """
            version: 1
            name: synthetic
            target: { url: "http://llmperf-serve:8000/v1", model: synthetic }
            workload: { prompts: ["Count slowly."], max_tokens: 64 }
            load: { concurrency: 8, requests: 200, warmup: 8 }
            """)
        let result = try LLMPerfProcess.run(["kube", "render", scenario, "--shards", "3", "--image", "llmperf:test"])
        #expect(result.status == 0, "\(result.stderr)")
        let documents = try Yams.load_all(yaml: result.stdout).map { $0 as? [String: Any] }
        #expect(documents.count == 4)
        #expect(documents.map { $0?["kind"] as? String } == ["ConfigMap", "PersistentVolumeClaim", "Job", "Job"])
        let spec = documents[2]?["spec"] as? [String: Any]
        #expect(spec?["completions"] as? Int == 3)
        #expect(spec?["parallelism"] as? Int == 3)
        #expect(result.stdout.contains("$(SHARD_INDEX)/3"))
        #expect((documents[2]?["metadata"] as? [String: Any])?["name"] as? String == "synthetic")
    }

    @Test func zeroShardsExitsTwoWithAClearMessage() throws {
        let scenario = LLMPerfProcess.repositoryRoot.appendingPathComponent("scenarios/synthetic.yml").path
        let result = try LLMPerfProcess.run(["kube", "render", scenario, "--shards", "0", "--image", "llmperf:test"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("--shards must be between 1 and 1000, got 0"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func aScenarioWithVariablesNeedsASecret() throws {
        let scenario = LLMPerfProcess.repositoryRoot.appendingPathComponent("scenarios/openai.yml").path
        let missing = try LLMPerfProcess.run(["kube", "render", scenario, "--shards", "2", "--image", "llmperf:test"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("OPENAI_BASE_URL, OPENAI_API_KEY"), "\(missing.stderr)")
        let value = "sk-integration-never-printed"
        let rendered = try LLMPerfProcess.run(
            ["kube", "render", scenario, "--shards", "2", "--image", "llmperf:test", "--secret", "llm-keys"],
            environment: ["OPENAI_API_KEY": value])
        #expect(rendered.status == 0, "\(rendered.stderr)")
        #expect(rendered.stdout.contains("secretKeyRef"))
        #expect(!rendered.stdout.contains(value) && !rendered.stderr.contains(value))
    }
}
