import Foundation
import Testing

@testable import LLMPerfCore

/// Every example in `scenarios/` (recursively, so `scenarios/optimizations/` too) loads and
/// validates; the shipped ones resolve to what their comments promise.
@Suite("Scenario files")
struct ScenarioFilesTests {
    /// The repository root, from this file's real location (`Tests/LLMPerfCoreTests/…`).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let scenariosDirectory = repositoryRoot.appendingPathComponent("scenarios")

    /// Fake values for the variables the examples reference.
    static let environment = [
        "OPENAI_API_KEY": "sk-test-not-a-real-key", "ANTHROPIC_API_KEY": "sk-ant-test-not-a-real-key",
    ]

    /// Paths relative to the repository root, sorted.
    static func files() -> [String] {
        let root = scenariosDirectory.path
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            if relative.hasSuffix(".yml") || relative.hasSuffix(".yaml") { files.append("scenarios/" + relative) }
        }
        return files.sorted()
    }

    static func load(_ relative: String) throws(ScenarioError) -> ScenarioDocument {
        try ScenarioLoader.load(path: repositoryRoot.appendingPathComponent(relative).path, environment: environment)
    }

    @Test func theShippedExamplesArePresent() {
        let files = Set(Self.files())
        for name in [
            "quickstart", "synthetic", "openai", "open-loop-poisson", "cold-connections", "reasoning", "anthropic",
            "openai-responses", "ollama", "llamacpp", "tgi",
        ] {
            #expect(files.contains("scenarios/\(name).yml"), "scenarios/\(name).yml")
        }
    }

    @Test(arguments: files())
    func loadsAndValidates(_ relative: String) throws {
        let document: ScenarioDocument
        do {
            document = try Self.load(relative)
        } catch {
            Issue.record(Comment(rawValue: error.description))
            return
        }
        #expect(!document.runs.isEmpty)
        for run in document.runs {
            #expect(run.hash.count == 64)
            #expect(!run.redactedYAML.isEmpty)
            #expect(!run.redactedYAML.contains("sk-test-not-a-real-key"))
            // A replay's prompts are its trace's rows, made when the run starts (`withReplayPrompts`).
            if case .replay(let spec) = run.load.shape {
                #expect(!spec.requests.isEmpty)
            } else {
                #expect(!run.workload.prompts.isEmpty)
            }
        }
    }

    @Test func ollama() throws {
        let runs = try Self.load("scenarios/ollama.yml").runs
        #expect(runs.map(\.target.api) == [.ollama, .ollamaGenerate])
        #expect(
            runs.map { $0.target.endpointURL(base: $0.target.url ?? "") } == [
                "http://127.0.0.1:11434/api/chat", "http://127.0.0.1:11434/api/generate",
            ])
        #expect(runs.allSatisfy { $0.workload.reasoningRequested && $0.workload.maxTokens == 512 })
    }

    @Test func quickstart() throws {
        let run = try #require(try Self.load("scenarios/quickstart.yml").runs.first)
        // `make demo` runs on a GPU when one is found, else on the CPU engine.
        #expect(
            run.target.backend
                == LocalBackendSpec(engine: "transformer", model: "default", options: [(key: "device", value: "auto")]))
        #expect(run.target.model == "default")
        #expect(run.load == LoadSpec(shape: .closed(concurrency: 2), stop: .requests(20), warmup: 2, seed: 42))
        #expect(run.workload.maxTokens == 32)
        #expect(run.workload.temperature == 0)
        #expect(run.slo.count >= 2)
    }

    @Test func synthetic() throws {
        let run = try #require(try Self.load("scenarios/synthetic.yml").runs.first)
        #expect(
            run.target.backend?.serveArguments == [
                "--engine", "synthetic", "--ttft-ms", "50", "--itl-ms", "10", "--tokens", "64",
            ])
        #expect(run.target.model == "synthetic")
        #expect(run.load.shape == .closed(concurrency: 8))
        #expect(run.load.stop == .requests(200))
    }

    @Test func responsesExampleAsksForLowEffortOnTheResponsesEndpoint() throws {
        let run = try #require(try Self.load("scenarios/openai-responses.yml").runs.first)
        #expect(run.target.api == .openAIResponses)
        #expect(run.target.endpointURL(base: run.target.url!) == "https://api.openai.com/v1/responses")
        #expect(run.workload.reasoningEffort == .low && run.workload.maxTokens == 2048)
        #expect(run.target.headers.first?.isSecret == true)
    }

    @Test func openAIWorksWithAndWithoutABaseURL() throws {
        let run = try #require(try Self.load("scenarios/openai.yml").runs.first)
        #expect(run.target.url == "https://api.openai.com/v1")
        #expect(run.target.model == "gpt-4o-mini")
        #expect(
            run.target.headers == [
                HeaderSpec(
                    name: "Authorization", value: "Bearer sk-test-not-a-real-key", template: "Bearer ${OPENAI_API_KEY}",
                    isSecret: true)
            ])
        #expect(run.redactedYAML.contains("Authorization: <redacted>"))
        let path = Self.repositoryRoot.appendingPathComponent("scenarios/openai.yml").path
        var environment = Self.environment
        environment["OPENAI_BASE_URL"] = "http://127.0.0.1:8000/v1"
        let local = try ScenarioLoader.load(path: path, environment: environment)
        #expect(local.runs.first?.target.url == "http://127.0.0.1:8000/v1")
        #expect(throws: ScenarioError.self) { try ScenarioLoader.load(path: path, environment: [:]) }
    }

    @Test func openLoopPoisson() throws {
        let run = try #require(try Self.load("scenarios/open-loop-poisson.yml").runs.first)
        #expect(run.load.shape == .open(ratePerSecond: 20, arrival: .poisson, maxConcurrency: 32))
        #expect(run.load.stop == .duration(.seconds(10)))
        #expect(run.target.backend?.engine == "synthetic")
    }

    @Test func coldConnections() throws {
        let runs = try Self.load("scenarios/cold-connections.yml").runs
        #expect(runs.map(\.variant) == ["cold", "warm"])
        #expect(runs.map(\.target.connection) == [.new, .reuse])
        #expect(runs.allSatisfy { $0.target.backend?.tls == true && $0.target.backend?.engine == "synthetic" })
        #expect(runs[0].hash != runs[1].hash)
    }
}
