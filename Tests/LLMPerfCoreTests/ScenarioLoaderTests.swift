import Foundation
import Testing

@testable import LLMPerfCore

/// Valid documents and the exact model values they load into.
@Suite("Scenario loading")
struct ScenarioLoaderTests {
    /// `Tests/LLMPerfCoreTests/Fixtures/scenarios`, found from this file's path.
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/scenarios").path

    static func load(_ yaml: String, environment: [String: String] = [:], path: String = "scenarios/x.yml") throws
        -> ScenarioDocument
    {
        try ScenarioLoader.load(yaml: yaml, path: path, environment: environment)
    }

    @Test func remoteTargetWithEveryOption() throws {
        let yaml = """
            version: 1
            name: remote
            target:
              url: ${BASE:-https://fallback.example.com/v1}
              api: openai-completions
              model: ${MODEL}
              headers:
                Authorization: Bearer ${API_KEY}
                X-Team: latency
                X-Api-Key: literal-key
                X-Price: $${not-a-variable}
              tls:
                ca_file: ca.pem
                insecure: false
              connection: new
              http: 2
              timeouts:
                connect: 1.5s
                first_token: 250ms
                idle: 2m
                total: none
            workload:
              prompts: ["hi"]
            load:
              concurrency: 1
              requests: 1
            """
        let environment = ["MODEL": "m-1", "API_KEY": "sk-secret"]
        let document = try Self.load(yaml, environment: environment, path: Self.fixtures + "/remote.yml")
        let target = try #require(document.runs.first).target
        #expect(target.url == "https://fallback.example.com/v1")
        #expect(target.backend == nil)
        #expect(target.api == .openAICompletions)
        #expect(target.model == "m-1")
        #expect(
            target.headers == [
                HeaderSpec(
                    name: "Authorization", value: "Bearer sk-secret", template: "Bearer ${API_KEY}", isSecret: true),
                HeaderSpec(name: "X-Team", value: "latency", template: "latency", isSecret: false),
                HeaderSpec(name: "X-Api-Key", value: "literal-key", template: "literal-key", isSecret: true),
                HeaderSpec(
                    name: "X-Price", value: "${not-a-variable}", template: "$${not-a-variable}", isSecret: false),
            ])
        #expect(target.tls == TLSOptions(caFile: Self.fixtures + "/ca.pem", insecure: false))
        #expect(target.connection == .new)
        #expect(target.http == .http2)
        #expect(
            target.timeouts
                == Timeouts(
                    connect: .milliseconds(1500), firstToken: .milliseconds(250), idle: .seconds(120), total: nil))

        let withBase = try Self.load(
            yaml, environment: environment.merging(["BASE": "http://127.0.0.1:8080/v1"]) { a, _ in a },
            path: Self.fixtures + "/remote.yml")
        #expect(withBase.runs.first?.target.url == "http://127.0.0.1:8080/v1")
    }

    @Test func defaultsOfARemoteTarget() throws {
        let yaml = """
            version: 1
            name: d
            target: { url: "https://api.example.com/v1", model: m }
            workload: { prompts: [a] }
            load: { concurrency: 3, duration: 45s }
            """
        let scenario = try #require(try Self.load(yaml).runs.first)
        #expect(
            scenario.target
                == TargetSpec(
                    url: "https://api.example.com/v1", api: .openAIChat, model: "m", connection: .reuse, http: .http1_1)
        )
        #expect(scenario.target.timeouts == Timeouts(connect: .seconds(10), total: .seconds(600)))
        #expect(scenario.workload == WorkloadSpec(prompts: [Prompt(user: "a")], stream: true, includeUsage: true))
        #expect(
            scenario.load == LoadSpec(shape: .closed(concurrency: 3), stop: .duration(.seconds(45)), warmup: 0, seed: 1)
        )
        #expect(scenario.slo.isEmpty)
        #expect(scenario.variant == nil)
        #expect(scenario.name == "d")
    }

    @Test func localTransformerBackend() throws {
        let yaml = """
            version: 1
            name: local
            target:
              backend: local
            workload: { prompts: [a] }
            load: { concurrency: 1, requests: 2 }
            """
        let target = try #require(try Self.load(yaml).runs.first).target
        #expect(target.url == nil)
        #expect(target.model == "default")
        #expect(target.backend == LocalBackendSpec(engine: "transformer", model: "default", tls: false, options: []))
        #expect(target.backend?.serveArguments == ["--engine", "transformer", "--model", "default"])
    }

    @Test func aLocalBackendRunsOnTheDeviceItsOptionsName() throws {
        for device in ["cpu", "vulkan", "vulkan:0", "Vulkan:12"] {
            let yaml = """
                version: 1
                name: t
                target: { backend: local, engine: transformer, options: { device: "\(device)" } }
                workload: { prompts: ["hi"] }
                load: { concurrency: 1, requests: 1 }
                """
            let target = try #require(try Self.load(yaml).runs.first).target
            #expect(target.backend?.serveArguments.suffix(2) == ["--device", device])
        }
    }

    @Test func localSyntheticBackendWithOptionsInFileOrder() throws {
        let yaml = """
            version: 1
            name: synth
            target:
              backend: local
              engine: synthetic
              tls: true
              options:
                ttft-ms: 50
                itl-ms: 10.5
                tokens: 64
                jitter: true
                quiet: false
            workload: { prompts: [a] }
            load: { concurrency: 1, requests: 2 }
            """
        let target = try #require(try Self.load(yaml).runs.first).target
        #expect(target.model == "synthetic")
        #expect(target.url == nil)
        let backend = try #require(target.backend)
        #expect(backend.engine == "synthetic")
        #expect(backend.model == nil)
        #expect(backend.tls)
        #expect(
            backend.serveArguments == [
                "--engine", "synthetic", "--ttft-ms", "50", "--itl-ms", "10.5", "--tokens", "64", "--jitter",
            ])
    }

    @Test func promptSourcesInOrderWithTheSystemMessage() throws {
        let yaml = """
            version: 1
            name: prompts
            target: { backend: local }
            workload:
              system: You are terse.
              prompts:
                - just text
                - { system: Custom system., user: with its own system }
              prompt_file: prompts.txt
              max_tokens: 16
              temperature: 0.7
              seed: -3
              stream: false
              include_usage: false
            load: { concurrency: 1, requests: 2 }
            """
        let workload = try #require(try Self.load(yaml, path: Self.fixtures + "/p.yml").runs.first).workload
        #expect(
            workload.prompts == [
                Prompt(system: "You are terse.", user: "just text"),
                Prompt(system: "Custom system.", user: "with its own system"),
                Prompt(system: "You are terse.", user: "First prompt from a file."),
                Prompt(system: "You are terse.", user: "Second prompt, trimmed."),
            ])
        #expect(workload.maxTokens == 16)
        #expect(workload.temperature == 0.7)
        #expect(workload.seed == -3)
        #expect(!workload.stream)
        #expect(!workload.includeUsage)
    }

    @Test func jsonLinesPromptFile() throws {
        let yaml = """
            version: 1
            name: jsonl
            target: { backend: local }
            workload: { prompt_file: prompts.jsonl }
            load: { concurrency: 1, requests: 2 }
            """
        let workload = try #require(try Self.load(yaml, path: Self.fixtures + "/j.yml").runs.first).workload
        #expect(
            workload.prompts == [
                Prompt(user: "plain prompt"), Prompt(system: "Be terse.", user: "with a system message"),
            ])
    }

    @Test func syntheticPromptsAreDeterministicAndRoughlyTheRightLength() throws {
        func yaml(seed: Int) -> String {
            """
            version: 1
            name: synthetic
            target: { backend: local }
            workload:
              synthetic: { input_tokens: { mean: 400, stddev: 40 }, count: 5, output_tokens: 32 }
              seed: \(seed)
            load: { concurrency: 1, requests: 2 }
            """
        }
        let first = try #require(try Self.load(yaml(seed: 9)).runs.first).workload
        let again = try #require(try Self.load(yaml(seed: 9)).runs.first).workload
        let other = try #require(try Self.load(yaml(seed: 10)).runs.first).workload
        #expect(first.prompts.count == 5)
        #expect(first.prompts == again.prompts)
        #expect(first.prompts != other.prompts)
        #expect(first.maxTokens == 32)
        for prompt in first.prompts {
            let words = prompt.user.split(separator: " ").count
            // 400 ± 40 tokens at 0.75 words per token, within four standard deviations.
            #expect((180...420).contains(words), "\(words) words")
        }
        let fixed = SyntheticPromptGenerator.prompts(for: SyntheticPromptSpec(inputTokensMean: 100, count: 3), seed: 1)
        #expect(fixed.map { $0.user.split(separator: " ").count } == [75, 75, 75])
    }

    @Test func openLoadWithEveryRateForm() throws {
        func load(_ body: String) throws -> LoadSpec {
            let yaml = """
                version: 1
                name: open
                target: { backend: local }
                workload: { prompts: [a], seed: 42 }
                load: { \(body) }
                """
            return try #require(try Self.load(yaml).runs.first).load
        }
        #expect(
            try load("rate: 10, requests: 100")
                == LoadSpec(
                    shape: .open(ratePerSecond: 10, arrival: .poisson, maxConcurrency: nil), stop: .requests(100),
                    seed: 42))
        #expect(
            try load("rate: 2.5/s, arrival: constant, max_concurrency: 4, duration: 1m, warmup: 3, seed: 5")
                == LoadSpec(
                    shape: .open(ratePerSecond: 2.5, arrival: .constant, maxConcurrency: 4),
                    stop: .duration(.seconds(60)),
                    warmup: 3, seed: 5))
        #expect(
            try load("rate: 120/m, requests: 1").shape
                == .open(ratePerSecond: 2, arrival: .poisson, maxConcurrency: nil))
    }

    @Test func sloThresholdsInFileOrderWithTheirUnits() throws {
        let yaml = """
            version: 1
            name: slo
            target: { backend: local }
            workload: { prompts: [a] }
            load: { concurrency: 1, requests: 2 }
            slo:
              ttft.p95: 500ms
              ttft_scheduled.p99: 1.5s
              tpot.mean: 20ms
              output_tokens.max: 64
              error_rate: 1%
              goodput: 0.95
              output_tokens_per_s: 100
              requests_per_s: 2.5
            """
        let slo = try #require(try Self.load(yaml).runs.first).slo
        #expect(
            slo == [
                SLOThreshold(key: "ttft.p95", metric: .ttft, statistic: "p95", limit: 500, isUpperBound: true),
                SLOThreshold(
                    key: "ttft_scheduled.p99", metric: .ttftScheduled, statistic: "p99", limit: 1500, isUpperBound: true
                ),
                SLOThreshold(key: "tpot.mean", metric: .tpot, statistic: "mean", limit: 20, isUpperBound: true),
                SLOThreshold(
                    key: "output_tokens.max", metric: .outputTokens, statistic: "max", limit: 64, isUpperBound: true),
                SLOThreshold(key: "error_rate", metric: nil, statistic: nil, limit: 0.01, isUpperBound: true),
                SLOThreshold(key: "goodput", metric: nil, statistic: nil, limit: 0.95, isUpperBound: false),
                SLOThreshold(key: "output_tokens_per_s", metric: nil, statistic: nil, limit: 100, isUpperBound: false),
                SLOThreshold(key: "requests_per_s", metric: nil, statistic: nil, limit: 2.5, isUpperBound: false),
            ])
    }

    @Test func redactedYAMLKeepsTemplatesAndHidesSecrets() throws {
        let yaml = """
            version: 1
            name: secret
            target:
              url: ${BASE:-https://api.example.com/v1}
              model: m
              headers:
                Authorization: Bearer ${API_KEY}
                X-Session-Token: abc123
                X-Org: ${ORG}
                X-Team: latency
            workload: { prompts: ["hi"] }
            load: { concurrency: 1, requests: 1 }
            """
        let scenario = try #require(
            try Self.load(yaml, environment: ["API_KEY": "sk-live", "ORG": "org-9"]).runs.first)
        #expect(
            scenario.redactedYAML == """
                version: 1
                name: secret
                target:
                  url: ${BASE:-https://api.example.com/v1}
                  model: m
                  headers:
                    Authorization: <redacted>
                    X-Session-Token: <redacted>
                    X-Org: <redacted>
                    X-Team: latency
                workload:
                  prompts:
                  - "hi"
                load:
                  concurrency: 1
                  requests: 1

                """)
        #expect(!scenario.redactedYAML.contains("sk-live"))
        #expect(!scenario.redactedYAML.contains("org-9"))
        #expect(scenario.target.headers.map(\.isSecret) == [true, true, true, false])
    }

    @Test func hashIgnoresNameVariantAndSLOButNotTheWorkload() throws {
        func hash(name: String, maxTokens: Int, slo: String = "") throws -> String {
            let yaml = """
                version: 1
                name: \(name)
                target: { backend: local, engine: synthetic }
                workload: { prompts: [a, b], max_tokens: \(maxTokens) }
                load: { concurrency: 2, requests: 10 }
                \(slo)
                """
            return try #require(try Self.load(yaml).runs.first).hash
        }
        let base = try hash(name: "one", maxTokens: 32)
        #expect(base.count == 64)
        #expect(try hash(name: "two", maxTokens: 32, slo: "slo: { ttft.p95: 1s }") == base)
        #expect(try hash(name: "one", maxTokens: 33) != base)
    }

    @Test func hashDoesNotDependOnSecretValues() throws {
        let yaml = """
            version: 1
            name: h
            target: { url: "https://api.example.com", model: m, headers: { Authorization: "Bearer ${KEY}" } }
            workload: { prompts: [a] }
            load: { concurrency: 1, requests: 1 }
            """
        let a = try #require(try Self.load(yaml, environment: ["KEY": "one"]).runs.first)
        let b = try #require(try Self.load(yaml, environment: ["KEY": "two"]).runs.first)
        #expect(a.hash == b.hash)
        #expect(!ScenarioCanonicalForm.render(a).contains("one"))
    }

    @Test func loadsAFileFromDisk() throws {
        let path = Self.fixtures + "/valid.yml"
        let document = try ScenarioLoader.load(path: path, environment: [:])
        #expect(document.path == path)
        #expect(document.runs.map(\.name) == ["fixture"])
        #expect(document.runs.first?.workload.prompts.count == 3)
    }

    @Test func theDesignDocumentsExampleLoads() throws {
        let document = try ScenarioLoader.load(path: Self.fixtures + "/design-example.yml", environment: [:])
        #expect(document.runs.map(\.variant) == ["baseline", "short-prompt"])
        let baseline = document.runs[0]
        #expect(baseline.name == "chat-latency")
        #expect(baseline.target.backend == LocalBackendSpec(engine: "transformer", model: "default"))
        #expect(baseline.load == LoadSpec(shape: .closed(concurrency: 4), stop: .requests(100), warmup: 5, seed: 42))
        #expect(baseline.slo.map(\.limit) == [500, 50, 0.01])
        #expect(document.runs[1].workload.prompts == [Prompt(user: "Explain continuous batching briefly.")])
    }
}
