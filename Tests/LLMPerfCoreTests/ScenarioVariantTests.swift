import Foundation
import Testing

@testable import LLMPerfCore

/// `variants:`: each is the base deep-merged with its overrides, validated whole, in file order.
@Suite("Scenario variants")
struct ScenarioVariantTests {
    static let yaml = """
        version: 1
        name: chat
        target:
          backend: local
          engine: synthetic
          options: { ttft-ms: 50, itl-ms: 10 }
        workload:
          prompts: ["long prompt", "another long prompt"]
          max_tokens: 64
          seed: 42
        load:
          concurrency: 4
          requests: 100
        slo:
          ttft.p95: 500ms
        variants:
          baseline: {}
          short-prompt:
            workload: { prompts: ["short"] }
          open:
            target: { options: { itl-ms: 20 } }
            load: { concurrency: ~, rate: 5/s }
            slo: { ttft.p95: 1s }
          bare:
        """

    @Test func oneRunPerVariantInFileOrder() throws {
        let document = try ScenarioLoader.load(yaml: Self.yaml, path: "scenarios/chat.yml", environment: [:])
        #expect(document.path == "scenarios/chat.yml")
        #expect(document.runs.map(\.variant) == ["baseline", "short-prompt", "open", "bare"])
        #expect(document.runs.allSatisfy { $0.name == "chat" })
    }

    @Test func listsReplaceMapsMergeAndNullRemoves() throws {
        let runs = try ScenarioLoader.load(yaml: Self.yaml, path: "scenarios/chat.yml", environment: [:]).runs
        let baseline = runs[0]
        let short = runs[1]
        let open = runs[2]
        #expect(baseline.workload.prompts == [Prompt(user: "long prompt"), Prompt(user: "another long prompt")])
        #expect(short.workload.prompts == [Prompt(user: "short")])
        #expect(short.workload.maxTokens == 64)
        #expect(short.load == baseline.load)
        #expect(
            open.load
                == LoadSpec(
                    shape: .open(ratePerSecond: 5, arrival: .poisson, maxConcurrency: nil), stop: .requests(100),
                    seed: 42))
        #expect(open.target.backend?.serveArguments == ["--engine", "synthetic", "--ttft-ms", "50", "--itl-ms", "20"])
        #expect(
            open.slo == [
                SLOThreshold(key: "ttft.p95", metric: .ttft, statistic: "p95", limit: 1000, isUpperBound: true)
            ])
        #expect(baseline.slo.map(\.limit) == [500])
        #expect(runs[3].hash == baseline.hash)
    }

    @Test func eachVariantsYAMLIsTheMergedDocumentWithoutVariants() throws {
        let runs = try ScenarioLoader.load(yaml: Self.yaml, path: "scenarios/chat.yml", environment: [:]).runs
        #expect(
            runs[2].redactedYAML == """
                version: 1
                name: chat
                target:
                  backend: local
                  engine: synthetic
                  options:
                    ttft-ms: 50
                    itl-ms: 20
                workload:
                  prompts:
                  - "long prompt"
                  - "another long prompt"
                  max_tokens: 64
                  seed: 42
                load:
                  requests: 100
                  rate: 5/s
                slo:
                  ttft.p95: 1s

                """)
        // The re-emitted document is itself a valid scenario that resolves the same way.
        let reloaded = try ScenarioLoader.load(yaml: runs[2].redactedYAML, path: "scenarios/chat.yml", environment: [:])
        #expect(reloaded.runs.first?.hash == runs[2].hash)
        #expect(reloaded.runs.first?.load == runs[2].load)
    }

    @Test func hashIsEqualForIdenticalWorkloadsAndDiffersWhenMaxTokensDiffers() throws {
        let runs = try ScenarioLoader.load(yaml: Self.yaml, path: "scenarios/chat.yml", environment: [:]).runs
        let plain = """
            version: 1
            name: another-name
            target: { backend: local, engine: synthetic, options: { ttft-ms: 50, itl-ms: 10 } }
            workload: { prompts: ["long prompt", "another long prompt"], max_tokens: 64, seed: 42 }
            load: { concurrency: 4, requests: 100 }
            """
        let same = try ScenarioLoader.load(yaml: plain, path: "other.yml", environment: [:]).runs[0]
        #expect(same.hash == runs[0].hash)
        let longer = plain.replacingOccurrences(of: "max_tokens: 64", with: "max_tokens: 65")
        #expect(try ScenarioLoader.load(yaml: longer, path: "other.yml", environment: [:]).runs[0].hash != runs[0].hash)
        #expect(Set(runs.prefix(3).map(\.hash)).count == 3)
    }

    @Test func variantsCanSupplyWhatTheBaseLacks() throws {
        let yaml = """
            version: 1
            name: per-variant-target
            workload: { prompts: [a] }
            load: { concurrency: 1, requests: 1 }
            variants:
              local: { target: { backend: local } }
              remote: { target: { url: "https://example.com/v1", model: m } }
            """
        let runs = try ScenarioLoader.load(yaml: yaml, path: "v.yml", environment: [:]).runs
        #expect(runs.map(\.target.url) == [nil, "https://example.com/v1"])
        #expect(runs.map(\.target.model) == ["default", "m"])
    }
}
