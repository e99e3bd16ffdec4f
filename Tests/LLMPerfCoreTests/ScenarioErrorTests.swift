import Foundation
import Testing

@testable import LLMPerfCore

/// Every error class the loader reports, with its exact user-facing text and position.
@Suite("Scenario errors")
struct ScenarioErrorTests {
    static let path = "scenarios/x.yml"

    /// The description of the error loading `yaml` throws (nil when it loads).
    static func failure(_ yaml: String, environment: [String: String] = [:], path: String = path) -> ScenarioError? {
        do {
            _ = try ScenarioLoader.load(yaml: yaml, path: path, environment: environment)
            return nil
        } catch {
            return error
        }
    }

    static func message(_ yaml: String, environment: [String: String] = [:], path: String = path) -> String? {
        failure(yaml, environment: environment, path: path)?.description
    }

    /// A valid document; `target`, `workload` and `load` bodies can be replaced.
    static func document(
        target: String = "  backend: local\n  engine: synthetic",
        workload: String = "  prompts: [\"hi\"]",
        load: String = "  concurrency: 2\n  requests: 10",
        extra: String = ""
    ) -> String {
        "version: 1\nname: x\ntarget:\n\(target)\nworkload:\n\(workload)\nload:\n\(load)\n\(extra)"
    }

    @Test func theTemplateDocumentLoads() {
        #expect(Self.message(Self.document()) == nil)
    }

    @Test func unknownKeyWithSuggestion() {
        let yaml = Self.document(load: "  concurency: 2\n  requests: 10")
        #expect(Self.message(yaml) == "scenarios/x.yml:9:3: load.concurency: unknown key; did you mean 'concurrency'?")
        #expect(Self.failure(yaml)?.kind == .unknownKey(suggestion: "concurrency"))
        #expect(Self.failure(yaml)?.keyPath == "load.concurency")
    }

    @Test func unknownKeyWithoutCloseMatchListsTheKeys() {
        let yaml = Self.document(extra: "colour: red\n")
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:11:1: colour: unknown key; expected one of version, name, target, workload, load, slo, variants, lab"
        )
    }

    @Test func unknownRootKeyWithSuggestion() {
        let yaml = Self.document(extra: "slos:\n  ttft.p95: 1s\n")
        #expect(Self.message(yaml) == "scenarios/x.yml:11:1: slos: unknown key; did you mean 'slo'?")
    }

    @Test func wordNotInTheAllowedSet() {
        let yaml = Self.document(target: "  url: https://example.com/v1\n  api: openai\n  model: m")
        // every API, in declaration order
        let apis = APIKind.allCases.map(\.rawValue).joined(separator: ", ")
        #expect(apis.hasPrefix("openai-chat, openai-completions, anthropic, openai-responses"))
        #expect(Self.message(yaml) == "scenarios/x.yml:5:8: target.api: expected one of \(apis), got 'openai'")
    }

    @Test func wordWithCloseMatchSuggestsIt() {
        let yaml = Self.document(target: "  backend: local\n  engine: synthetc")
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:5:11: target.engine: expected one of transformer, synthetic, got 'synthetc'; did you mean 'synthetic'?"
        )
    }

    @Test func missingEnvironmentVariable() {
        let yaml = Self.document(
            target: "  url: https://example.com/v1\n  model: m\n  headers:\n    Authorization: Bearer ${OPENAI_API_KEY}"
        )
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:7:20: target.headers.Authorization: environment variable OPENAI_API_KEY is not set")
        #expect(Self.failure(yaml)?.kind == .missingEnvironmentVariable("OPENAI_API_KEY"))
    }

    @Test func malformedTemplate() {
        let yaml = Self.document(target: "  url: https://example.com/${HOST\n  model: m")
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:4:8: target.url: unterminated '${' (close it with '}', or write '$${' for a literal '${')"
        )
    }

    @Test func durationWithoutUnit() {
        let yaml = Self.document(load: "  concurrency: 2\n  duration: 30")
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:10:13: load.duration: expected a duration such as 30s, 500ms or 2m, got '30'")
    }

    @Test func timeoutWithoutUnit() {
        let yaml = Self.document(target: "  backend: local\n  engine: synthetic\n  timeouts:\n    connect: 5")
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:7:14: target.timeouts.connect: expected a duration such as 30s, 500ms or 2m (or none), got '5'"
        )
    }

    @Test func yamlSyntaxError() {
        let yaml = "version: 1\nname: x\ntarget:\n  url: [unclosed\nload: {}\n"
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:5:5: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at 4:8)"
        )
        #expect(Self.failure(yaml)?.kind == .syntax)
    }

    @Test func tabIndentationIsASyntaxError() {
        let yaml = "version: 1\nname: x\ntarget:\n\tbackend: local\n"
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:4:1: invalid YAML: found character that cannot start any token (while scanning for the next token at 4:1)"
        )
    }

    @Test func duplicateKeyPointsAtTheRepetition() {
        let yaml = Self.document(load: "  concurrency: 2\n  requests: 10\n  concurrency: 4")
        #expect(Self.message(yaml) == "scenarios/x.yml:11:3: duplicate key 'concurrency' (first written at 9:3)")
    }

    @Test func complexKeyIsRejected() {
        let yaml = "version: 1\nname: x\n? [a, b]\n: c\n"
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:3:3: expected a plain key (a word or string), got a list or mapping as a key")
    }

    @Test func aSecondDocumentIsRejected() {
        #expect(
            Self.message("version: 1\n---\nversion: 1\n")
                == "scenarios/x.yml:2:1: expected a single YAML document, found a second one (remove the '---' line)")
    }

    @Test func emptyFile() {
        #expect(
            Self.message("")
                == "scenarios/x.yml: the file is empty; expected a scenario mapping starting with version: 1")
        #expect(
            Self.message("# only a comment\n")
                == "scenarios/x.yml: the file is empty; expected a scenario mapping starting with version: 1")
        #expect(Self.failure("")?.kind == .empty)
    }

    @Test func rootThatIsNotAMapping() {
        #expect(
            Self.message("- version: 1\n")
                == "scenarios/x.yml:1:1: expected a mapping of scenario keys (version, name, target, workload, load, slo, variants, lab), got a list"
        )
        #expect(
            Self.message("hello\n")
                == "scenarios/x.yml:1:1: expected a mapping of scenario keys (version, name, target, workload, load, slo, variants, lab), got 'hello'"
        )
    }

    @Test func missingFile() {
        var error: ScenarioError?
        do {
            _ = try ScenarioLoader.load(path: "scenarios/does-not-exist.yml", environment: [:])
        } catch let failure {
            error = failure
        }
        #expect(error?.description == "cannot read scenarios/does-not-exist.yml: No such file or directory")
        #expect(error?.kind == .unreadableFile)
    }

    @Test func versionMissingOrUnsupported() {
        #expect(
            Self.message("name: x\n") == "scenarios/x.yml:1:1: version: missing required key; expected version: 1")
        #expect(
            Self.message("version: 2\nname: x\n")
                == "scenarios/x.yml:1:10: version: expected 1 (the only scenario format version), got '2'")
    }

    @Test func nameMissingOrInvalid() {
        #expect(Self.message("version: 1\n") == "scenarios/x.yml:1:1: name: missing required key")
        #expect(
            Self.message("version: 1\nname: my scenario\n")
                == "scenarios/x.yml:2:7: name: expected a name of letters, digits, '-', '_' or '.', got 'my scenario'")
    }

    @Test func missingSections() {
        #expect(Self.message("version: 1\nname: x\n") == "scenarios/x.yml:1:1: target: missing required key")
        let noLoad = "version: 1\nname: x\ntarget:\n  backend: local\nworkload:\n  prompts: [a]\n"
        #expect(Self.message(noLoad) == "scenarios/x.yml:1:1: load: missing required key")
    }

    @Test func urlAndBackendTogether() {
        let yaml = Self.document(target: "  backend: local\n  url: https://example.com")
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:5:3: target.url: cannot be combined with target.backend; a target is either a remote url or backend: local"
        )
        #expect(Self.failure(yaml)?.kind == .conflict)
    }

    @Test func neitherUrlNorBackend() {
        let yaml = Self.document(target: "  model: m")
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:4:3: target: expected either url (a remote endpoint) or backend: local")
    }

    @Test func urlTargetNeedsAModel() {
        let yaml = Self.document(target: "  url: https://example.com/v1")
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:4:3: target.model: required for a url target (the model name sent in each request)")
    }

    @Test func invalidURL() {
        let yaml = Self.document(target: "  url: ftp://example.com\n  model: m")
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:4:8: target.url: expected an http or https URL such as https://api.example.com/v1, got 'ftp://example.com'"
        )
    }

    @Test func localOnlyKeysOnAURLTarget() {
        let yaml = Self.document(target: "  url: https://example.com\n  model: m\n  engine: synthetic")
        #expect(Self.message(yaml) == "scenarios/x.yml:6:3: target.engine: only applies to backend: local")
    }

    @Test func syntheticEngineServesOnlyItsModel() {
        let yaml = Self.document(target: "  backend: local\n  engine: synthetic\n  model: llama")
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:6:10: target.model: expected synthetic (the synthetic engine's only model) or no model, got 'llama'"
        )
    }

    @Test func reservedServeOption() {
        let yaml = Self.document(target: "  backend: local\n  options:\n    port: 8080")
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:6:5: target.options.port: cannot be set in options: llmperf picks a free port")
    }

    @Test func theDeviceOptionIsCheckedWhenTheScenarioLoads() {
        let bogus = Self.document(target: "  backend: local\n  engine: transformer\n  options:\n    device: gpu")
        #expect(
            Self.message(bogus)
                == "scenarios/x.yml:7:13: target.options.device: expected cpu, vulkan (the first Vulkan GPU), "
                + "vulkan:N (device N) or auto (the first Vulkan GPU if one is found, else cpu), got 'gpu'")
        let negative = Self.document(target: "  backend: local\n  options:\n    device: \"vulkan:-1\"")
        #expect(Self.failure(negative)?.keyPath == "target.options.device")
        let synthetic = Self.document(target: "  backend: local\n  engine: synthetic\n  options:\n    device: vulkan")
        #expect(
            Self.message(synthetic)
                == "scenarios/x.yml:7:5: target.options.device: applies to the transformer engine, not synthetic")
        let variant = Self.document(
            target: "  backend: local\n  engine: transformer",
            extra: "variants:\n  a: {}\n  b: { target: { options: { device: metal } } }\n")
        #expect(Self.failure(variant)?.keyPath == "variants.b.target.options.device")
    }

    @Test func tlsShapeDependsOnTheTarget() {
        let url = Self.document(target: "  url: https://example.com\n  model: m\n  tls: true")
        #expect(
            Self.message(url)
                == "scenarios/x.yml:6:8: target.tls: expected a mapping with ca_file and/or insecure (tls: true|false is for backend: local), got 'true'"
        )
        let local = Self.document(target: "  backend: local\n  tls: yes please")
        #expect(Self.message(local) == "scenarios/x.yml:5:8: target.tls: expected true or false, got 'yes please'")
    }

    @Test func missingCAFile() {
        let yaml = Self.document(target: "  url: https://example.com\n  model: m\n  tls:\n    ca_file: certs/ca.pem")
        #expect(Self.message(yaml) == "scenarios/x.yml:7:14: target.tls.ca_file: no such file: scenarios/certs/ca.pem")
        #expect(Self.failure(yaml)?.kind == .referencedFile)
    }

    @Test func httpVersion() {
        let yaml = Self.document(target: "  backend: local\n  http: 3")
        #expect(Self.message(yaml) == "scenarios/x.yml:5:9: target.http: expected one of 1.1, 2, got '3'")
    }

    @Test func headerNamesAreCaseInsensitive() {
        let yaml = Self.document(target: "  backend: local\n  headers:\n    X-A: 1\n    x-a: 2")
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:7:5: target.headers.x-a: header names are case-insensitive: this repeats 'X-A'")
    }

    @Test func concurrencyAndRateTogether() {
        let yaml = Self.document(load: "  concurrency: 2\n  rate: 10/s\n  requests: 10")
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:10:3: load.rate: cannot be combined with load.concurrency; use concurrency for a closed loop or rate for an open loop"
        )
    }

    @Test func requestsAndDurationTogetherOrNeither() {
        let both = Self.document(load: "  concurrency: 2\n  requests: 10\n  duration: 5s")
        #expect(
            Self.message(both)
                == "scenarios/x.yml:11:3: load.duration: cannot be combined with load.requests; a run stops after a number of requests or a duration"
        )
        let neither = Self.document(load: "  concurrency: 2")
        #expect(
            Self.message(neither) == "scenarios/x.yml:9:3: load: expected requests (a count) or duration (such as 60s)")
    }

    @Test func openLoopKeysWithAClosedLoop() {
        let yaml = Self.document(load: "  concurrency: 2\n  requests: 10\n  arrival: poisson")
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:11:3: load.arrival: only applies to an open loop (rate), not to concurrency")
    }

    @Test func invalidRate() {
        let yaml = Self.document(load: "  rate: 10/sec\n  requests: 10")
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:9:9: load.rate: expected a rate such as 10/s, 2.5/s or 120/m, got '10/sec'")
    }

    @Test func numbersOutOfRange() {
        let concurrency = Self.document(load: "  concurrency: 0\n  requests: 10")
        #expect(
            Self.message(concurrency) == "scenarios/x.yml:9:16: load.concurrency: expected a whole number > 0, got '0'")
        let warmup = Self.document(load: "  concurrency: 1\n  requests: 10\n  warmup: -1")
        #expect(Self.message(warmup) == "scenarios/x.yml:11:11: load.warmup: expected a whole number ≥ 0, got '-1'")
        let temperature = Self.document(workload: "  prompts: [a]\n  temperature: 2.5")
        #expect(
            Self.message(temperature)
                == "scenarios/x.yml:8:16: workload.temperature: expected a number from 0 to 2, got '2.5'")
        let maxTokens = Self.document(workload: "  prompts: [a]\n  max_tokens: many")
        #expect(
            Self.message(maxTokens)
                == "scenarios/x.yml:8:15: workload.max_tokens: expected a whole number > 0, got 'many'")
    }

    @Test func noPromptSource() {
        let yaml = Self.document(workload: "  max_tokens: 5")
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:7:3: workload: expected at least one prompt source: prompts, prompt_file, synthetic or dataset"
        )
    }

    @Test func promptShapes() {
        let emptyList = Self.document(workload: "  prompts: []")
        #expect(
            Self.message(emptyList)
                == "scenarios/x.yml:7:12: workload.prompts: expected at least one prompt, got a list")
        let noUser = Self.document(workload: "  prompts:\n    - system: be brief")
        #expect(Self.message(noUser) == "scenarios/x.yml:8:7: workload.prompts.0.user: missing required key")
        let notAList = Self.document(workload: "  prompts: hello")
        #expect(
            Self.message(notAList)
                == "scenarios/x.yml:7:12: workload.prompts: expected a list of prompts (strings, or mappings with user and optional system), got 'hello'"
        )
    }

    @Test func promptFileProblems() {
        let missing = Self.document(workload: "  prompt_file: data/prompts.txt")
        #expect(
            Self.message(missing)
                == "scenarios/x.yml:7:16: workload.prompt_file: cannot read scenarios/data/prompts.txt: No such file or directory"
        )
        let wrongKind = Self.document(workload: "  prompt_file: data/prompts.csv")
        #expect(
            Self.message(wrongKind)
                == "scenarios/x.yml:7:16: workload.prompt_file: expected a .txt (one prompt per line) or .jsonl file, got 'data/prompts.csv'"
        )
        let fixtures = ScenarioLoaderTests.fixtures
        let badJSON = Self.document(workload: "  prompt_file: bad.jsonl")
        #expect(
            Self.message(badJSON, path: fixtures + "/x.yml")
                == "\(fixtures)/x.yml:7:16: workload.prompt_file: \(fixtures)/bad.jsonl:2: expected a JSON object with a 'prompt' or 'user' string (and optional 'system')"
        )
    }

    @Test func unknownSLOKeys() {
        let metric = Self.document(extra: "slo:\n  ttfb.p95: 1s\n  tfft.p95: 1s\n")
        #expect(Self.message(metric) == "scenarios/x.yml:13:3: slo.tfft.p95: unknown key; did you mean 'ttft.p95'?")
        let statistic = Self.document(extra: "slo:\n  ttft.p98: 1s\n")
        #expect(
            Self.message(statistic)
                == "scenarios/x.yml:12:3: slo.ttft.p98: unknown statistic 'p98'; did you mean 'p90'?")
        let latencyNumber = Self.document(extra: "slo:\n  ttft.p95: 500\n")
        #expect(
            Self.message(latencyNumber)
                == "scenarios/x.yml:12:13: slo.ttft.p95: expected a duration such as 30s, 500ms or 2m, got '500'")
        let rate = Self.document(extra: "slo:\n  error_rate: 5\n")
        #expect(
            Self.message(rate)
                == "scenarios/x.yml:12:15: slo.error_rate: expected a percentage such as 1% or a fraction between 0 and 1, got '5'"
        )
    }

    @Test func errorsInsideAVariantPointAtTheOverride() {
        let yaml = Self.document(
            extra: "variants:\n  base: {}\n  fast:\n    load:\n      concurrency: lots\n")
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:15:20: variants.fast.load.concurrency: expected a whole number > 0, got 'lots'")
        let unknown = Self.document(extra: "variants:\n  fast:\n    lod: {}\n")
        #expect(
            Self.message(unknown) == "scenarios/x.yml:13:5: variants.fast.lod: unknown key; did you mean 'load'?")
        let name = Self.document(extra: "variants:\n  fast:\n    name: y\n")
        #expect(Self.message(name) == "scenarios/x.yml:13:5: variants.fast.name: cannot be set in a variant")
        let badName = Self.document(extra: "variants:\n  \"a b\": {}\n")
        #expect(
            Self.message(badName)
                == "scenarios/x.yml:12:3: variants.a b: expected a variant name of letters, digits, '-', '_' or '.'")
        let empty = Self.document(extra: "variants: {}\n")
        #expect(Self.message(empty) == "scenarios/x.yml:11:11: variants: expected at least one variant, got a mapping")
    }

    @Test func aConflictIntroducedByAVariantSaysHowToDropTheBaseKey() {
        let yaml = Self.document(extra: "variants:\n  open:\n    load: { rate: 5/s }\n")
        #expect(
            Self.message(yaml)
                == "scenarios/x.yml:13:13: variants.open.load.rate: cannot be combined with load.concurrency; use concurrency for a closed loop or rate for an open loop (in a variant, set concurrency: null to drop the base document's value)"
        )
        let fixed = Self.document(extra: "variants:\n  open:\n    load: { rate: 5/s, concurrency: null }\n")
        #expect(Self.message(fixed) == nil)
    }
}
